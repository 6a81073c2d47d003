package ocicni

import (
	"encoding/json"
	"slices"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/netconf"
)

// recordedResults returns the results recorded for atts when every one of
// them is attached to the sandbox exactly as asked now: a whole entry (not
// an owed one) for the same network and interface, recorded with the same
// netns, CNI_ARGS and capability arguments, with a readable result. ok is
// false otherwise, and the setup is then refused as already attached. The
// caller holds the pod lock.
func (p *Plugin) recordedResults(set *netconf.Set, pod *PodNetwork, atts []*attachment) (_ []NetResult, ok bool) {
	entries, err := p.store.Sandbox(pod.ID, attachstore.Hints{Networks: namesOf(set)})
	if err != nil {
		return nil, false
	}
	results := make([]NetResult, len(atts))
	for _, a := range atts {
		i := slices.IndexFunc(entries, func(e *attachstore.Entry) bool {
			return e.Err == nil && e.Network == a.name && e.Ifname == a.ifname
		})
		if i < 0 || !sameRequest(entries[i], a) {
			return nil, false
		}
		list, err := entries[i].ConfigList()
		if err != nil {
			return nil, false
		}
		res, err := p.cni.GetNetworkListCachedResult(list, a.rt)
		if err != nil || res == nil {
			return nil, false
		}
		results[a.pos] = NetResult{Result: res, NetAttachment: NetAttachment{Name: a.name, Ifname: a.ifname}}
	}
	return results, true
}

// sameRequest reports whether entry e records the attachment a plans: not
// owed, and the same netns (the same namespace, where its identity was
// recorded, not only the same path), CNI_ARGS and capability arguments
// (the library's own order and netns keys aside). The network's configuration is not
// compared: the request is the caller's, and a configuration rewritten
// since does not make the same request a different one.
func sameRequest(e *attachstore.Entry, a *attachment) bool {
	return !e.Owed && e.NetNS == a.rt.NetNS && slices.Equal(e.Args, a.rt.Args) &&
		capsJSON(e.Caps) == capsJSON(a.rt.CapabilityArgs) &&
		(e.NetNSID == "" || e.NetNSID == netnsIdentity(a.rt.NetNS))
}

// capsJSON encodes capability arguments the way their record on disk
// reads back, so a requested value (a []PortMapping, say) compares equal
// to the recorded one (a []any of maps).
func capsJSON(caps map[string]any) string {
	kept := map[string]any{}
	for k, v := range caps {
		if k != attachstore.OrderKey && k != attachstore.NetNSKey {
			kept[k] = v
		}
	}
	b, err := json.Marshal(kept)
	if err != nil {
		return "unencodable"
	}
	var generic any
	if err := json.Unmarshal(b, &generic); err != nil {
		return "unencodable"
	}
	b, _ = json.Marshal(generic)
	return string(b)
}
