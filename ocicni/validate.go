package ocicni

import (
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/containernetworking/cni/pkg/utils"
)

// ValidatePodNetwork checks a setup request the way SetUpPod does before it
// looks at the loaded configuration: sandbox ID, CNI_ARGS values, netns path,
// interface names and per-network runtime configuration. An error matches
// ErrInvalidPodNetwork. A fake CNIPlugin can call it to refuse exactly what
// the real one refuses.
func ValidatePodNetwork(pod PodNetwork) error {
	if err := validateSetup(&pod); err != nil {
		return err
	}
	if _, err := planIfnames(pod.Networks); err != nil {
		return err
	}
	return refuseRuntimeNetNS(&pod)
}

// refuseRuntimeNetNS refuses a pod whose netns path leads to the runtime's
// own namespace: plugins would configure, and a rollback DEL tear down,
// the node's own interfaces. It comes last, after every other check, so a
// fake that enters no namespace can let this one error alone through.
func refuseRuntimeNetNS(pod *PodNetwork) error {
	if isRuntimeNetNS(pod.NetNS) {
		return fmt.Errorf("%w: %w: pod %s: %s", ErrInvalidPodNetwork, ErrRuntimeNetNS, podName(pod), pod.NetNS)
	}
	return nil
}

// ValidateSandbox checks what a teardown or a status call checks before it
// looks at the cache: the sandbox ID, and the name, namespace and UID that
// end up in CNI_ARGS. An error matches ErrInvalidPodNetwork.
func ValidateSandbox(pod PodNetwork) error {
	return validateID(&pod)
}

// InterfaceNames returns the interface name each of networks gets, as
// SetUpPod assigns them: names given are reserved first, the others get
// the lowest free ethN. An invalid or repeated name is an error matching
// ErrInvalidPodNetwork.
func InterfaceNames(networks []NetAttachment) ([]string, error) {
	return planIfnames(networks)
}

// maxCacheFileName is the longest file name common file systems allow.
const maxCacheFileName = 255

// ValidateAttachment checks what SetUpPod checks of each planned attachment
// once its network is known: libcni keys its result cache by
// <network>-<sandboxID>-<ifname>, and a name over the file-name limit would
// fail only after the plugins ran. An error matches ErrInvalidPodNetwork.
func ValidateAttachment(sandboxID, network, ifname string) error {
	if l := len(network) + len(sandboxID) + len(ifname) + 2; l > maxCacheFileName {
		return invalidf("sandbox ID %q with network %q and interface %q makes a %d-byte cache file name, over the %d-byte limit",
			sandboxID, network, ifname, l, maxCacheFileName)
	}
	return nil
}

// ValidateGCPods checks GC's validPods the way GC does before it removes
// anything: no entry may be nil or lack a sandbox ID, and each entry's
// interface names must plan as SetUpPod plans them, since GC reports the
// planned names to the plugins as valid. An error matches
// ErrInvalidPodNetwork.
func ValidateGCPods(validPods []*PodNetwork) error {
	for i, pod := range validPods {
		if pod == nil {
			return invalidf("validPods[%d] is nil", i)
		}
		if pod.ID == "" {
			return invalidf("validPods[%d] has no sandbox ID", i)
		}
		if _, err := planIfnames(pod.Networks); err != nil {
			return fmt.Errorf("validPods[%d]: %w", i, err)
		}
	}
	return nil
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
		// %w keeps the cause, so a netns that is gone matches
		// fs.ErrNotExist as well as ErrInvalidPodNetwork.
		return fmt.Errorf("%w: pod %s: %w", ErrInvalidPodNetwork, podName(pod), err)
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
