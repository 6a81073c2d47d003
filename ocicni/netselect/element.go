package netselect

import (
	"fmt"
	"net"
	"strings"
	"unicode"

	"github.com/containernetworking/cni/pkg/utils"

	"github.com/netplumb/ocicni/ocicni"
)

// element is one entry of the annotation, as written. The comma form
// fills only Name, Namespace and Interface.
type element struct {
	Name           string         `json:"name"`
	Namespace      string         `json:"namespace"`
	Interface      string         `json:"interface"`
	IPs            []string       `json:"ips"`
	MAC            string         `json:"mac"`
	InfinibandGUID string         `json:"infiniband-guid"`
	DeviceID       string         `json:"deviceID"`
	PortMappings   []portMapping  `json:"portMappings"`
	Bandwidth      *bandwidth     `json:"bandwidth"`
	CNIArgs        map[string]any `json:"cni-args"`
	DefaultRoute   []string       `json:"default-route"`
}

// portMapping is a port mapping as the annotation writes it; the wide
// integers let an out-of-range port be reported rather than wrap.
type portMapping struct {
	HostPort      int64  `json:"hostPort"`
	ContainerPort int64  `json:"containerPort"`
	Protocol      string `json:"protocol"`
	HostIP        string `json:"hostIP"`
}

// bandwidth is a bandwidth request as the annotation writes it (signed,
// so a negative rate is reported rather than rejected by the decoder
// without naming the entry).
type bandwidth struct {
	IngressRate  int64 `json:"ingressRate"`
	IngressBurst int64 `json:"ingressBurst"`
	EgressRate   int64 `json:"egressRate"`
	EgressBurst  int64 `json:"egressBurst"`
}

// ref is the entry's network reference as written.
func (e element) ref() string {
	if e.Namespace == "" {
		return e.Name
	}
	return e.Namespace + "/" + e.Name
}

// attachment checks every field of entry index and resolves its network.
func (e element) attachment(index int, c Catalog, o options) (Attachment, error) {
	ref := e.ref()
	bad := func(field, format string, args ...any) (Attachment, error) {
		return Attachment{}, invalid(index, ref, field, format, args...)
	}
	switch {
	case e.Name == "":
		return bad("name", "empty network name")
	case !cniName.MatchString(e.Name):
		return bad("name", "%q is not a CNI network name (letters, digits, '_', '.', '-', starting with a letter or digit)", e.Name)
	case e.Namespace != "" && (len(e.Namespace) > 63 || !dnsLabel.MatchString(e.Namespace)):
		return bad("namespace", "%q is not a Kubernetes namespace name", e.Namespace)
	}
	a := Attachment{Entry: index, Ifname: fmt.Sprintf("net%d", index+1)}
	if e.Interface != "" {
		if err := utils.ValidateInterfaceName(e.Interface); err != nil {
			return bad("interface", "%q: %s", e.Interface, err.Msg)
		}
		if strings.ContainsFunc(e.Interface, unicode.IsControl) {
			return bad("interface", "%q contains a control character", e.Interface)
		}
		a.Ifname = e.Interface
	}
	rc, field, err := e.runtimeConfig()
	if err != nil {
		return bad(field, "%v", err)
	}
	a.RuntimeConfig = rc
	if a.DefaultRoute, err = parseGateways(e.DefaultRoute); err != nil {
		return bad("default-route", "%v", err)
	}
	ns := e.Namespace
	if ns == "" {
		ns = o.namespace
	}
	network, ok := c.resolve(ns, e.Name)
	if !ok {
		why := fmt.Sprintf("%q is not loaded", e.Name)
		if ns != "" {
			why = fmt.Sprintf("neither %q nor %q is loaded", ns+"."+e.Name, e.Name)
		}
		return Attachment{}, &EntryError{Index: index, Name: ref, Field: "name", Err: fmt.Errorf("%w: %s", ocicni.ErrNetworkNotFound, why)}
	}
	a.Network = network
	a.Ref = e.Name
	if ns != "" {
		a.Ref = ns + "/" + e.Name
	}
	return a, nil
}

// runtimeConfig checks the per-network settings and returns them as a
// RuntimeConfig, or the field at fault.
func (e element) runtimeConfig() (ocicni.RuntimeConfig, string, error) {
	var rc ocicni.RuntimeConfig
	seen := map[string]bool{}
	for _, ip := range e.IPs {
		addr, _, err := net.ParseCIDR(ip)
		if err != nil {
			if addr = net.ParseIP(ip); addr == nil {
				return rc, "ips", fmt.Errorf("%q is neither an address nor an address/prefix", ip)
			}
		}
		if seen[addr.String()] {
			return rc, "ips", fmt.Errorf("%s is requested twice", addr)
		}
		seen[addr.String()] = true
		rc.IPs = append(rc.IPs, ip)
	}
	if e.MAC != "" {
		hw, err := net.ParseMAC(e.MAC)
		switch {
		case err != nil:
			return rc, "mac", fmt.Errorf("%q: %v", e.MAC, err)
		case len(hw) != 6:
			return rc, "mac", fmt.Errorf("%q is not a 6-byte Ethernet address", e.MAC)
		case hw[0]&1 == 1:
			return rc, "mac", fmt.Errorf("%q is a multicast address", e.MAC)
		case string(hw) == string(make([]byte, 6)):
			return rc, "mac", fmt.Errorf("%q is all zeros", e.MAC)
		}
		rc.MAC = hw.String()
	}
	if e.InfinibandGUID != "" {
		if guid, err := net.ParseMAC(e.InfinibandGUID); err != nil || len(guid) != 8 {
			return rc, "infiniband-guid", fmt.Errorf("%q is not an 8-byte GUID such as 00:11:22:33:44:55:66:77", e.InfinibandGUID)
		}
		rc.InfinibandGUID = e.InfinibandGUID
	}
	if strings.ContainsFunc(e.DeviceID, unicode.IsControl) {
		return rc, "deviceID", fmt.Errorf("%q contains a control character", e.DeviceID)
	}
	rc.DeviceID = e.DeviceID
	for _, pm := range e.PortMappings {
		if pm.HostPort < 1 || pm.HostPort > 65535 || pm.ContainerPort < 1 || pm.ContainerPort > 65535 {
			return rc, "portMappings", fmt.Errorf("%d->%d: ports must be 1..65535", pm.HostPort, pm.ContainerPort)
		}
		switch strings.ToLower(pm.Protocol) {
		case "", "tcp", "udp", "sctp":
		default:
			return rc, "portMappings", fmt.Errorf("protocol %q is not tcp, udp or sctp", pm.Protocol)
		}
		if pm.HostIP != "" && net.ParseIP(pm.HostIP) == nil {
			return rc, "portMappings", fmt.Errorf("hostIP %q is not an IP address", pm.HostIP)
		}
		rc.PortMappings = append(rc.PortMappings, ocicni.PortMapping{
			HostPort: int32(pm.HostPort), ContainerPort: int32(pm.ContainerPort),
			Protocol: strings.ToLower(pm.Protocol), HostIP: pm.HostIP,
		})
	}
	if b := e.Bandwidth; b != nil {
		if b.IngressRate < 0 || b.IngressBurst < 0 || b.EgressRate < 0 || b.EgressBurst < 0 {
			return rc, "bandwidth", fmt.Errorf("rates and bursts cannot be negative")
		}
		rc.Bandwidth = &ocicni.BandwidthConfig{
			IngressRate: uint64(b.IngressRate), IngressBurst: uint64(b.IngressBurst),
			EgressRate: uint64(b.EgressRate), EgressBurst: uint64(b.EgressBurst),
		}
	}
	if len(e.CNIArgs) > 0 {
		return rc, "cni-args", fmt.Errorf("not supported: ocicni.RuntimeConfig has no place for plugin config args, so they would be dropped")
	}
	return rc, "", nil
}

// parseGateways reads default-route: addresses, at most one per family.
func parseGateways(gws []string) ([]net.IP, error) {
	var out []net.IP
	var v4, v6 bool
	for _, s := range gws {
		ip := net.ParseIP(s)
		switch {
		case ip == nil:
			return nil, fmt.Errorf("%q is not an IP address", s)
		case ip.IsUnspecified() || ip.IsMulticast() || ip.IsLoopback():
			return nil, fmt.Errorf("%s cannot be a gateway", ip)
		case ip.To4() != nil:
			if v4 {
				return nil, fmt.Errorf("more than one IPv4 gateway")
			}
			v4, ip = true, ip.To4()
		default:
			if v6 {
				return nil, fmt.Errorf("more than one IPv6 gateway")
			}
			v6 = true
		}
		out = append(out, ip)
	}
	return out, nil
}
