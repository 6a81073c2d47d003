package netselect

import (
	"fmt"
	"net"
	"reflect"

	"github.com/netplumb/ocicni/ocicni"
)

// Selection is a parsed and resolved network-selection annotation: every
// attachment the pod is to get, checked against each other and against
// the loaded networks. Build it with Parse; it is a plain value, safe to
// share between goroutines once built.
type Selection struct {
	// Attachments lists the pod's attachments in setup order: the
	// default network first, then the annotation's entries in order.
	Attachments []Attachment
}

// Attachment is one network attachment of a selection.
type Attachment struct {
	// Entry is the position of the annotation entry this attachment
	// comes from, counting from 0, or -1 for the default network.
	Entry int
	// Default is true for the default network's attachment only.
	Default bool
	// Network is the loaded CNI network the entry resolved to.
	Network string
	// Ref is the name the status annotation reports: "namespace/name"
	// for an entry with a namespace (its own or the pod's), the bare name
	// otherwise, and the network's name for the default network.
	Ref string
	// Ifname is the interface inside the pod: eth0 for the default
	// network, the requested name or net<Entry+1> for the others.
	Ifname string
	// RuntimeConfig holds the entry's ips, mac, infiniband-guid,
	// deviceID, portMappings and bandwidth.
	RuntimeConfig ocicni.RuntimeConfig
	// DefaultRoute holds the entry's default-route gateways, at most one
	// per address family.
	DefaultRoute []net.IP
}

// build checks the entries against each other and lays out the
// attachments.
func build(elems []element, c Catalog, o options) (Selection, error) {
	sel := Selection{Attachments: []Attachment{{
		Entry: -1, Default: true, Network: c.Default, Ref: c.Default, Ifname: ocicni.DefaultInterfaceName,
	}}}
	ifnames := map[string]int{ocicni.DefaultInterfaceName: 0} // interface -> attachment
	networks := map[string]int{c.Default: 0}                  // network -> first attachment
	routes := map[int]int{}                                   // address length -> attachment
	for i, e := range elems {
		a, err := e.attachment(i, c, o)
		if err != nil {
			return Selection{}, err
		}
		if j, dup := ifnames[a.Ifname]; dup {
			return Selection{}, invalid(i, e.ref(), "interface", "%s is already the interface of %s", a.Ifname, describe(sel.Attachments[j]))
		}
		if j, dup := networks[a.Network]; dup {
			other := sel.Attachments[j]
			field := firstSetting(a.RuntimeConfig)
			if field == "" {
				field = firstSetting(other.RuntimeConfig)
			}
			if field != "" {
				return Selection{}, invalid(i, e.ref(), field,
					"network %q is also selected by %s, and runtime settings are kept per network, so a network selected twice may carry none",
					a.Network, describe(other))
			}
		} else {
			networks[a.Network] = len(sel.Attachments)
		}
		for _, gw := range a.DefaultRoute {
			if j, dup := routes[len(gw)]; dup {
				return Selection{}, invalid(i, e.ref(), "default-route", "%s already asks for the IPv%d default route", describe(sel.Attachments[j]), family(gw))
			}
			routes[len(gw)] = len(sel.Attachments)
		}
		ifnames[a.Ifname] = len(sel.Attachments)
		sel.Attachments = append(sel.Attachments, a)
	}
	return sel, nil
}

func describe(a Attachment) string {
	if a.Default {
		return fmt.Sprintf("the default network %q", a.Network)
	}
	return fmt.Sprintf("entry %d (%q)", a.Entry, a.Ref)
}

func family(ip net.IP) int {
	if ip.To4() != nil {
		return 4
	}
	return 6
}

// firstSetting names the first annotation field that rc carries, or "".
func firstSetting(rc ocicni.RuntimeConfig) string {
	switch {
	case len(rc.IPs) > 0:
		return "ips"
	case rc.MAC != "":
		return "mac"
	case rc.InfinibandGUID != "":
		return "infiniband-guid"
	case rc.DeviceID != "":
		return "deviceID"
	case len(rc.PortMappings) > 0:
		return "portMappings"
	case rc.Bandwidth != nil:
		return "bandwidth"
	}
	return ""
}

// Networks returns the attachments as the Networks of a PodNetwork, in
// setup order.
func (s Selection) Networks() []ocicni.NetAttachment {
	out := make([]ocicni.NetAttachment, len(s.Attachments))
	for i, a := range s.Attachments {
		out[i] = ocicni.NetAttachment{Name: a.Network, Ifname: a.Ifname}
	}
	return out
}

// Apply returns a copy of pod with the selection's Networks and with each
// selected network's RuntimeConfig added to the pod's own; pod itself is
// not modified. It refuses, with an error matching
// ocicni.ErrInvalidPodNetwork, a pod that already lists networks (the
// selection decides them), a pod whose RuntimeConfig already configures a
// network the selection configures too, and an empty Selection.
func (s Selection) Apply(pod ocicni.PodNetwork) (ocicni.PodNetwork, error) {
	if len(s.Attachments) == 0 {
		return pod, fmt.Errorf("%w: empty selection (build it with Parse)", ocicni.ErrInvalidPodNetwork)
	}
	if len(pod.Networks) > 0 {
		return pod, fmt.Errorf("%w: pod %s/%s already lists its networks; a selection decides them", ocicni.ErrInvalidPodNetwork, pod.Namespace, pod.Name)
	}
	rcs := make(map[string]ocicni.RuntimeConfig, len(pod.RuntimeConfig)+len(s.Attachments))
	for name, rc := range pod.RuntimeConfig {
		rcs[name] = rc
	}
	for _, a := range s.Attachments {
		if reflect.ValueOf(a.RuntimeConfig).IsZero() {
			continue
		}
		if own, ok := rcs[a.Network]; ok && !reflect.ValueOf(own).IsZero() {
			return pod, fmt.Errorf("%w: network %q is configured both by the pod's RuntimeConfig and by %s", ocicni.ErrInvalidPodNetwork, a.Network, describe(a))
		}
		rcs[a.Network] = a.RuntimeConfig
	}
	pod.Networks = s.Networks()
	pod.RuntimeConfig = rcs
	return pod, nil
}
