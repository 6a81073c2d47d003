package types

import (
	"errors"

	current "github.com/containernetworking/cni/pkg/types/100"
)

// MaxDeviceIPs is how many addresses Kubernetes accepts in a
// NetworkDeviceData (KEP-4817).
const MaxDeviceIPs = 16

// NetworkDeviceData is what Kubernetes' resource.k8s.io API records of a
// network device allocated to a pod (KEP-4817, the NetworkDeviceData of a
// ResourceClaim's device status), so that a DRA or NRI driver can report
// what the pod got. It mirrors the API's fields and JSON names without
// depending on Kubernetes.
type NetworkDeviceData struct {
	// InterfaceName is the interface's name inside the pod.
	InterfaceName string `json:"interfaceName,omitempty"`
	// IPs are the interface's addresses in CIDR form ("10.1.2.3/24"),
	// at most MaxDeviceIPs of them.
	IPs []string `json:"ips,omitempty"`
	// HardwareAddress is the interface's MAC address as the plugin
	// reported it.
	HardwareAddress string `json:"hardwareAddress,omitempty"`
}

// DeviceData returns the pod-side interface of the attachment as
// Kubernetes' NetworkDeviceData: the result's interface inside the sandbox
// named like the attachment (or, failing that, its first interface inside
// the sandbox), its hardware address, and the addresses the result gives
// it or gives no interface, in the order reported and in CIDR form. Beyond
// MaxDeviceIPs addresses the rest are left out, as the API refuses more.
// Where the result names no interface inside the sandbox (an IPAM-only
// chain, say), InterfaceName is the attachment's Ifname and only the
// addresses given no interface are reported. The result may be of any CNI
// version; an error means it could not be read as one.
func (r NetResult) DeviceData() (NetworkDeviceData, error) {
	if r.Result == nil {
		return NetworkDeviceData{}, errors.New("no CNI result to read device data from")
	}
	res, err := current.NewResultFromResult(r.Result)
	if err != nil {
		return NetworkDeviceData{}, err
	}
	pod := -1
	for i, iface := range res.Interfaces {
		if iface.Sandbox == "" {
			continue
		}
		if iface.Name == r.Ifname {
			pod = i
			break
		}
		if pod < 0 {
			pod = i
		}
	}
	out := NetworkDeviceData{InterfaceName: r.Ifname}
	if pod >= 0 {
		out.InterfaceName, out.HardwareAddress = res.Interfaces[pod].Name, res.Interfaces[pod].Mac
	}
	for _, ip := range res.IPs {
		if len(out.IPs) == MaxDeviceIPs {
			break
		}
		if (ip.Interface == nil || *ip.Interface == pod) && ip.Address.IP != nil {
			out.IPs = append(out.IPs, ip.Address.String())
		}
	}
	return out, nil
}
