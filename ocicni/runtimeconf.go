package ocicni

import (
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/utils"
)

// attachIndexKey is a capability argument no plugin declares, so libcni
// never sends it; it does store it in the result cache, which is how
// teardown and GC recover the order networks were attached in. Its value is
// the setup's start time in microseconds plus the network's position, so
// it also orders networks attached to one sandbox by separate SetUpPod
// calls (which the pod lock serializes), and stays exact as a JSON number.
const attachIndexKey = "io.github.netplumb.ocicni/attach-index"

// maxCacheFileName is the longest file name common file systems allow.
const maxCacheFileName = 255

// attachment is one network of one pod, planned and ready to run.
type attachment struct {
	name   string
	ifname string
	index  int      // position in the attach order
	net    *network // the loaded network, nil if not loaded
	rt     *libcni.RuntimeConf
	list   *libcni.NetworkConfigList // what to run: cached or current
	// noCache is set when the result cache holds no entry for the
	// attachment, so list (if any) is the current configuration.
	noCache bool
}

// validateID checks the sandbox ID and the values that end up in CNI_ARGS.
func validateID(pod *PodNetwork) error {
	if err := utils.ValidateContainerID(pod.ID); err != nil {
		return invalidf("sandbox ID %q: %s", pod.ID, err.Msg)
	}
	for _, f := range []struct{ what, v string }{
		{"name", pod.Name}, {"namespace", pod.Namespace}, {"UID", pod.UID},
	} {
		if err := checkArgValue(f.v); err != nil {
			return invalidf("pod %s %q: %v", f.what, f.v, err)
		}
	}
	return nil
}

// validateSetup checks everything about a setup request that does not
// depend on the loaded configuration.
func validateSetup(pod *PodNetwork) error {
	if err := validateID(pod); err != nil {
		return err
	}
	if pod.NetNS == "" {
		return invalidf("pod %s: no network namespace path given", podName(pod))
	}
	if err := checkNetNS(pod.NetNS); err != nil {
		return invalidf("pod %s: %v", podName(pod), err)
	}
	for name, rc := range pod.RuntimeConfig {
		if err := validateRuntimeConfig(name, rc); err != nil {
			return err
		}
	}
	return nil
}

// checkArgValue refuses values that would let a caller smuggle extra keys
// into CNI_ARGS, whose format is K=V;K=V.
func checkArgValue(v string) error {
	if strings.ContainsAny(v, ";=\x00") {
		return fmt.Errorf("contains ';', '=' or NUL, which CNI_ARGS cannot carry")
	}
	return nil
}

// planIfnames returns the interface name of each requested attachment:
// explicit names are reserved first, the rest get the lowest free ethN.
func planIfnames(reqs []NetAttachment) ([]string, error) {
	names := make([]string, len(reqs))
	used := map[string]bool{}
	for i, r := range reqs {
		if r.Ifname == "" {
			continue
		}
		if err := utils.ValidateInterfaceName(r.Ifname); err != nil {
			return nil, invalidf("interface name %q for network %q: %s", r.Ifname, r.Name, err.Msg)
		}
		// libcni lets control characters through; a NUL would cut the
		// CNI_IFNAME the plugin sees short of the name the cache records.
		if strings.ContainsFunc(r.Ifname, unicode.IsControl) {
			return nil, invalidf("interface name %q for network %q contains a control character", r.Ifname, r.Name)
		}
		if used[r.Ifname] {
			return nil, invalidf("interface name %q is requested twice", r.Ifname)
		}
		used[r.Ifname] = true
		names[i] = r.Ifname
	}
	next := 0
	for i := range names {
		if names[i] != "" {
			continue
		}
		for used[fmt.Sprintf("eth%d", next)] {
			next++
		}
		names[i] = fmt.Sprintf("eth%d", next)
		used[names[i]] = true
	}
	return names, nil
}

// validateRuntimeConfig checks one network's runtime configuration.
func validateRuntimeConfig(netName string, rc RuntimeConfig) error {
	if rc.IP != "" && net.ParseIP(rc.IP) == nil {
		return invalidf("network %q: IP %q is not an IP address", netName, rc.IP)
	}
	if rc.MAC != "" {
		if _, err := net.ParseMAC(rc.MAC); err != nil {
			return invalidf("network %q: MAC %q: %v", netName, rc.MAC, err)
		}
	}
	for _, ip := range rc.IPs {
		if _, _, err := net.ParseCIDR(ip); err != nil && net.ParseIP(ip) == nil {
			return invalidf("network %q: ips entry %q is neither an address nor a CIDR", netName, ip)
		}
	}
	for _, pm := range rc.PortMappings {
		if pm.HostPort < 1 || pm.HostPort > 65535 || pm.ContainerPort < 1 || pm.ContainerPort > 65535 {
			return invalidf("network %q: port mapping %d->%d: ports must be 1..65535", netName, pm.HostPort, pm.ContainerPort)
		}
		switch strings.ToLower(pm.Protocol) {
		case "", "tcp", "udp", "sctp":
		default:
			return invalidf("network %q: port mapping protocol %q is not tcp, udp or sctp", netName, pm.Protocol)
		}
		if pm.HostIP != "" && net.ParseIP(pm.HostIP) == nil {
			return invalidf("network %q: port mapping host IP %q is not an IP address", netName, pm.HostIP)
		}
	}
	for _, ranges := range rc.IpRanges {
		for _, r := range ranges {
			if _, _, err := net.ParseCIDR(r.Subnet); err != nil {
				return invalidf("network %q: ipRanges subnet %q: %v", netName, r.Subnet, err)
			}
		}
	}
	return nil
}

// runtimeConf builds the libcni arguments of one attachment.
// order is recorded under attachIndexKey; it matters only for an ADD.
func (p *Plugin) runtimeConf(pod *PodNetwork, netName, ifname string, order int64) *libcni.RuntimeConf {
	rc := pod.RuntimeConfig[netName]
	var args [][2]string
	if p.opts.kubernetesArgs {
		args = append(args,
			[2]string{"K8S_POD_NAMESPACE", pod.Namespace},
			[2]string{"K8S_POD_NAME", pod.Name},
			[2]string{"K8S_POD_INFRA_CONTAINER_ID", pod.ID},
			[2]string{"K8S_POD_UID", pod.UID},
		)
	}
	if rc.IP != "" {
		args = append(args, [2]string{"IP", rc.IP})
	}
	if rc.MAC != "" {
		args = append(args, [2]string{"MAC", rc.MAC})
	}
	if len(args) > 0 {
		// Reference plugins reject CNI_ARGS keys they do not know unless
		// told to ignore them.
		args = append([][2]string{{"IgnoreUnknown", "1"}}, args...)
	}

	caps := map[string]any{attachIndexKey: order}
	if len(rc.PortMappings) > 0 {
		pms := make([]PortMapping, len(rc.PortMappings))
		for i, pm := range rc.PortMappings {
			pm.Protocol = strings.ToLower(pm.Protocol)
			if pm.Protocol == "" {
				pm.Protocol = "tcp"
			}
			pms[i] = pm
		}
		caps["portMappings"] = pms
	}
	if rc.Bandwidth != nil {
		caps["bandwidth"] = *rc.Bandwidth
	}
	if len(rc.IpRanges) > 0 {
		caps["ipRanges"] = rc.IpRanges
	}
	if rc.CgroupPath != "" {
		caps["cgroupPath"] = rc.CgroupPath
	}
	if rc.PodAnnotations != nil {
		caps["io.kubernetes.cri.pod-annotations"] = *rc.PodAnnotations
	}
	if len(rc.IPs) > 0 {
		caps["ips"] = rc.IPs
	}
	if rc.MAC != "" {
		caps["mac"] = rc.MAC
	}
	if rc.DNS != nil {
		caps["dns"] = *rc.DNS
	}
	if rc.DeviceID != "" {
		caps["deviceID"] = rc.DeviceID
	}
	if rc.InfinibandGUID != "" {
		caps["infinibandGUID"] = rc.InfinibandGUID
	}
	if aliases := mergeAliases(pod.Aliases, netName, rc.Aliases); len(aliases) > 0 {
		caps["aliases"] = aliases
	}
	return &libcni.RuntimeConf{
		ContainerID:    pod.ID,
		NetNS:          pod.NetNS,
		IfName:         ifname,
		Args:           args,
		CapabilityArgs: caps,
	}
}

// mergeAliases copies the pod-wide map and lets the network's own list
// replace its entry, without touching the caller's map.
func mergeAliases(pod map[string][]string, netName string, own []string) map[string][]string {
	if len(pod) == 0 && len(own) == 0 {
		return nil
	}
	out := make(map[string][]string, len(pod)+1)
	for k, v := range pod {
		out[k] = append([]string(nil), v...)
	}
	if len(own) > 0 {
		out[netName] = append([]string(nil), own...)
	}
	return out
}
