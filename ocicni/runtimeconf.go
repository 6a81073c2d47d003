package ocicni

import (
	"strings"

	"github.com/containernetworking/cni/libcni"
)

// runtimeConf builds the libcni arguments of one attachment. The attach
// order (attachstore.OrderKey) is not among them: only a setup records one,
// and it takes it under the pod lock.
func (p *Plugin) runtimeConf(pod *PodNetwork, netName, ifname string) *libcni.RuntimeConf {
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

	caps := map[string]any{}
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
