package netselect

import (
	"encoding/json"
	"fmt"
	"net"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
)

// NetworkStatus is one element of the network-status annotation. Its JSON
// field names and shapes are those of multus's published type, so the
// annotation reads back into it.
type NetworkStatus struct {
	// Name is the attachment's reference: "namespace/name", or the
	// default network's name.
	Name string `json:"name"`
	// Interface is the interface inside the pod.
	Interface string `json:"interface,omitempty"`
	// IPs are the addresses of the interface, without prefix length.
	IPs []string `json:"ips,omitempty"`
	// Mac is the interface's hardware address as the plugin reported it.
	Mac string `json:"mac,omitempty"`
	// Mtu is the interface's MTU as the plugin reported it; plugins that
	// report none leave it out.
	Mtu int `json:"mtu,omitempty"`
	// Default is true for the default network's attachment, as multus
	// marks its cluster network; it does not say where the default
	// route goes (Gateway does).
	Default bool `json:"default,omitempty"`
	// DNS is the DNS configuration the plugin returned. It is always
	// present, empty when the plugin returned none, as in multus's
	// annotation.
	DNS DNS `json:"dns"`
	// Gateway lists the gateways of the pod's default routes that go
	// through this interface.
	Gateway []string `json:"gateway,omitempty"`
}

// DNS is the DNS part of a NetworkStatus.
type DNS struct {
	// Nameservers are the name server addresses, in order of preference.
	Nameservers []string `json:"nameservers,omitempty"`
	// Domain is the local domain.
	Domain string `json:"domain,omitempty"`
	// Search lists the search domains, in order.
	Search []string `json:"search,omitempty"`
	// Options are resolver options.
	Options []string `json:"options,omitempty"`
}

// Status returns the network-status annotation value for the results of
// a setup (SetUp, or SetUpPod of an applied pod) or of a status call
// (GetPodNetworkStatus): a JSON list with one NetworkStatus per
// attachment, in the selection's order. See Statuses.
func (s Selection) Status(results []ocicni.NetResult) ([]byte, error) {
	st, err := s.Statuses(results)
	if err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

// Statuses builds one NetworkStatus per attachment of the selection, in
// its order, from the result of the same network and interface. Results
// of attachments outside the selection are left out; an attachment
// without a result, or whose result cannot be read, is an error.
//
// Gateway reflects default-route: the interface an entry moved the
// default route to lists the requested gateway for that family, and every
// other interface loses its default-route gateways of that family, as the
// pod's routing table does after SetUp.
func (s Selection) Statuses(results []ocicni.NetResult) ([]NetworkStatus, error) {
	byAttachment := make(map[ocicni.NetAttachment]ocicni.NetResult, len(results))
	for _, r := range results {
		byAttachment[r.NetAttachment] = r
	}
	moved := map[int]bool{} // address lengths whose default route a selection entry moved
	for _, a := range s.Attachments {
		for _, gw := range a.DefaultRoute {
			moved[len(gw)] = true
		}
	}
	out := make([]NetworkStatus, 0, len(s.Attachments))
	for _, a := range s.Attachments {
		r, ok := byAttachment[ocicni.NetAttachment{Name: a.Network, Ifname: a.Ifname}]
		if !ok || r.Result == nil {
			return nil, fmt.Errorf("no result for network %q on %s (%s)", a.Network, a.Ifname, describe(a))
		}
		st, err := statusOf(a, r, moved)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// statusOf reads one attachment's result.
func statusOf(a Attachment, r ocicni.NetResult, moved map[int]bool) (NetworkStatus, error) {
	res, err := current.NewResultFromResult(r.Result)
	if err != nil {
		return NetworkStatus{}, fmt.Errorf("result of network %q on %s: %w", a.Network, a.Ifname, err)
	}
	st := NetworkStatus{Name: a.Ref, Interface: a.Ifname, Default: a.Default}
	// The pod side of the attachment is the sandbox interface of that
	// name; a result naming it differently still has one sandbox side.
	pod := -1
	for i, iface := range res.Interfaces {
		if iface.Sandbox != "" && (iface.Name == a.Ifname || pod < 0) {
			pod = i
		}
	}
	if pod >= 0 {
		st.Mac, st.Mtu = res.Interfaces[pod].Mac, res.Interfaces[pod].Mtu
	}
	for _, ip := range res.IPs {
		if ip.Interface == nil || *ip.Interface == pod {
			st.IPs = append(st.IPs, ip.Address.IP.String())
		}
	}
	for _, rt := range res.Routes {
		if ones, _ := rt.Dst.Mask.Size(); ones != 0 || rt.GW == nil || moved[addrLen(rt.GW)] {
			continue
		}
		st.Gateway = append(st.Gateway, rt.GW.String())
	}
	for _, gw := range a.DefaultRoute {
		st.Gateway = append(st.Gateway, gw.String())
	}
	st.DNS = DNS{Nameservers: res.DNS.Nameservers, Domain: res.DNS.Domain, Search: res.DNS.Search, Options: res.DNS.Options}
	return st, nil
}

// addrLen is the length parseGateways stores an address of ip's family in.
func addrLen(ip net.IP) int {
	if ip.To4() != nil {
		return net.IPv4len
	}
	return net.IPv6len
}
