package main

import (
	"bytes"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/netplumb/ocicni/ocicni"
)

// cnitool's environment, plus CNI_CONTAINERID to name the sandbox.
const (
	envNetConfPath = "NETCONFPATH"
	envCNIPath     = "CNI_PATH"
	envIfname      = "CNI_IFNAME"
	envCNIArgs     = "CNI_ARGS"
	envCapArgs     = "CAP_ARGS"
	envContainerID = "CNI_CONTAINERID"
)

// supportedCapArgs are the CAP_ARGS keys the library can send, as
// capArgs decodes them.
const supportedCapArgs = "portMappings, bandwidth, ipRanges, cgroupPath, io.kubernetes.cri.pod-annotations, ips, mac, dns, deviceID, infinibandGUID, aliases"

// envOr returns the variable's value, or def when it is unset or empty.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// cnitoolContainerID is the sandbox ID cnitool gives a netns path, so an
// attachment made by either tool can be checked or removed by the other.
func cnitoolContainerID(absNetNS string) string {
	sum := sha512.Sum512([]byte(absNetNS))
	return fmt.Sprintf("cnitool-%x", sum[:10])
}

// podRequest is what a pod verb asks the library for.
type podRequest struct {
	pod ocicni.PodNetwork
	// kubernetesArgs is set when CNI_ARGS named a K8S_POD_* key: only then
	// does the library send those keys, as cnitool sends only what it is
	// given.
	kubernetesArgs bool
}

// podRequest builds the request from NETWORK NETNS-PATH, the flags and the
// environment. Every error is a usage error.
func (inv *invocation) podRequest() (*podRequest, error) {
	network, netns := inv.args[0], inv.args[1]
	if network == "" {
		return nil, usagef("the network name is empty")
	}
	abs, err := filepath.Abs(netns)
	if err != nil {
		return nil, usagef("netns path %q: %w", netns, err)
	}
	req := &podRequest{pod: ocicni.PodNetwork{
		NetNS:    abs,
		Networks: []ocicni.NetAttachment{{Name: network, Ifname: inv.ifname}},
	}}
	var rc ocicni.RuntimeConfig
	infraID, err := applyCNIArgs(inv.cniArgs, req, &rc)
	if err != nil {
		return nil, err
	}
	if err := applyCapArgs(inv.capArgs, &req.pod, &rc); err != nil {
		return nil, err
	}
	req.pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{network: rc}
	switch {
	case inv.containerID != "" && infraID != "" && infraID != inv.containerID:
		return nil, usagef("%s K8S_POD_INFRA_CONTAINER_ID=%s differs from the container ID %s; the library sends the container ID under that key", envCNIArgs, infraID, inv.containerID)
	case inv.containerID != "":
		req.pod.ID = inv.containerID
	case infraID != "":
		req.pod.ID = infraID
	default:
		req.pod.ID = cnitoolContainerID(abs)
	}
	return req, nil
}

// applyCNIArgs maps CNI_ARGS onto the pod and its runtime configuration,
// and returns K8S_POD_INFRA_CONTAINER_ID if given. The library builds
// CNI_ARGS itself from those fields, so a key with no field is refused
// rather than silently dropped.
func applyCNIArgs(s string, req *podRequest, rc *ocicni.RuntimeConfig) (string, error) {
	if s == "" {
		return "", nil
	}
	var infraID string
	for _, pair := range strings.Split(s, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k == "" || v == "" || strings.Contains(v, "=") {
			return "", usagef("%s: %q is not KEY=VALUE", envCNIArgs, pair)
		}
		switch k {
		case "IgnoreUnknown":
			// The library always sends IgnoreUnknown=1 with its arguments.
		case "IP":
			rc.IP = v
		case "MAC":
			rc.MAC = v
		case "K8S_POD_NAMESPACE":
			req.pod.Namespace, req.kubernetesArgs = v, true
		case "K8S_POD_NAME":
			req.pod.Name, req.kubernetesArgs = v, true
		case "K8S_POD_UID":
			req.pod.UID, req.kubernetesArgs = v, true
		case "K8S_POD_INFRA_CONTAINER_ID":
			infraID, req.kubernetesArgs = v, true
		default:
			return "", usagef("%s key %q cannot be passed: ocicni sends only IP, MAC, IgnoreUnknown and K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, K8S_POD_INFRA_CONTAINER_ID; put other values in the network configuration's \"args\", or in %s for a plugin that declares the capability", envCNIArgs, k, envCapArgs)
		}
	}
	return infraID, nil
}

// capArgs is CAP_ARGS: the capability arguments the library can send.
type capArgs struct {
	PortMappings   []ocicni.PortMapping    `json:"portMappings"`
	Bandwidth      *ocicni.BandwidthConfig `json:"bandwidth"`
	IPRanges       [][]ocicni.IpRange      `json:"ipRanges"`
	CgroupPath     string                  `json:"cgroupPath"`
	PodAnnotations *map[string]string      `json:"io.kubernetes.cri.pod-annotations"`
	IPs            []string                `json:"ips"`
	MAC            string                  `json:"mac"`
	DNS            *ocicni.DNSConfig       `json:"dns"`
	DeviceID       string                  `json:"deviceID"`
	InfinibandGUID string                  `json:"infinibandGUID"`
	// Aliases maps network names to DNS aliases, as the "aliases"
	// capability carries it.
	Aliases map[string][]string `json:"aliases"`
}

// applyCapArgs maps CAP_ARGS onto the pod and its runtime configuration.
// An unknown key is refused: the library sends only the capabilities it
// has a field for.
func applyCapArgs(s string, pod *ocicni.PodNetwork, rc *ocicni.RuntimeConfig) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var ca capArgs
	if err := dec.Decode(&ca); err != nil {
		return usagef("%s: %w (supported keys: %s)", envCapArgs, err, supportedCapArgs)
	}
	if dec.More() {
		return usagef("%s: trailing data after the JSON object", envCapArgs)
	}
	if ca.MAC != "" && rc.MAC != "" && !strings.EqualFold(ca.MAC, rc.MAC) {
		return usagef("%s mac %s and %s MAC %s differ; the library sends one MAC as both", envCapArgs, ca.MAC, envCNIArgs, rc.MAC)
	}
	if ca.MAC != "" {
		rc.MAC = ca.MAC
	}
	rc.PortMappings = ca.PortMappings
	rc.Bandwidth = ca.Bandwidth
	rc.IpRanges = ca.IPRanges
	rc.CgroupPath = ca.CgroupPath
	rc.PodAnnotations = ca.PodAnnotations
	rc.IPs = ca.IPs
	rc.DNS = ca.DNS
	rc.DeviceID = ca.DeviceID
	rc.InfinibandGUID = ca.InfinibandGUID
	pod.Aliases = ca.Aliases
	return nil
}
