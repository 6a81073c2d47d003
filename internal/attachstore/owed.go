package attachstore

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/containernetworking/cni/libcni"
)

func (s *Store) writeOwed(network string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf, keepExisting bool) error {
	name := FileName(network, rt.ContainerID, rt.IfName)
	path := s.Path(network, rt.ContainerID, rt.IfName)
	if keepExisting {
		if _, err := os.Lstat(path); err == nil {
			return nil
		}
	}
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
		return err
	}
	if err := s.writeDurably(path, data); err != nil {
		return fmt.Errorf("recording attachment %s: %w", name, err)
	}
	s.index.add(name)
	return nil
}
