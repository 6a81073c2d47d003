package attachstore

import (
	"encoding/json"
	"fmt"

	"github.com/containernetworking/cni/libcni"
)

// writeOwed durably writes an owed entry and returns its bytes.
func (s *Store) writeOwed(network string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) ([]byte, error) {
	name := FileName(network, rt.ContainerID, rt.IfName)
	path := s.Path(network, rt.ContainerID, rt.IfName)
	caps := make(map[string]any, len(rt.CapabilityArgs)+1)
	for k, v := range rt.CapabilityArgs {
		caps[k] = v
	}
	caps[owedKey] = true
	data, err := json.Marshal(struct {
		cachedInfo
		Result map[string]any `json:"result"`
	}{
		cachedInfo: cachedInfo{
			Kind: libcni.CNICacheV1, ContainerID: rt.ContainerID, Config: list.Bytes,
			IfName: rt.IfName, NetworkName: network, NetNS: rt.NetNS, CniArgs: rt.Args, CapabilityArgs: caps,
		},
		// An empty result of the configuration's version: libcni hands it
		// to the DEL as prevResult, and drops an entry whose result it
		// cannot decode.
		Result: map[string]any{"cniVersion": list.CNIVersion},
	})
	if err != nil {
		return nil, err
	}
	if err := s.writeDurably(path, data); err != nil {
		return nil, fmt.Errorf("recording attachment %s: %w", name, err)
	}
	s.index.add(name)
	nsid, _ := rt.CapabilityArgs[NetNSKey].(string)
	s.owners.note(name, nsid)
	return data, nil
}

// markOwed returns a usable libcni entry with the owed mark added and
// every other field, the result among them, as it was; false for one that
// is owed already or unusable.
func markOwed(data []byte) ([]byte, bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, false
	}
	var ci cachedInfo
	if err := json.Unmarshal(data, &ci); err != nil || ci.Kind != libcni.CNICacheV1 {
		return nil, false
	}
	if owed, _ := ci.CapabilityArgs[owedKey].(bool); owed {
		return nil, false
	}
	if ci.CapabilityArgs == nil {
		ci.CapabilityArgs = map[string]any{}
	}
	ci.CapabilityArgs[owedKey] = true
	caps, err := json.Marshal(ci.CapabilityArgs)
	if err != nil {
		return nil, false
	}
	fields["capabilityArgs"] = caps
	out, err := json.Marshal(fields)
	return out, err == nil
}
