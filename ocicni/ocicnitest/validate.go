package ocicnitest

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/containernetworking/cni/pkg/utils"

	"github.com/netplumb/ocicni/ocicni"
)

// maxCacheFileName is the real plugin's limit on <network>-<id>-<ifname>,
// the name of libcni's cache file for an attachment.
const maxCacheFileName = 255

// validateID refuses what the real plugin refuses before a teardown or a
// status: a malformed sandbox ID, and a name, namespace or UID that would
// smuggle keys into CNI_ARGS. Setup uses ocicni.ValidatePodNetwork, which
// checks this and more.
func validateID(pod *ocicni.PodNetwork) error {
	if err := utils.ValidateContainerID(pod.ID); err != nil {
		return invalidf("sandbox ID %q: %s", pod.ID, err.Msg)
	}
	for _, v := range []string{pod.Name, pod.Namespace, pod.UID} {
		if strings.ContainsAny(v, ";=\x00") {
			return invalidf("pod value %q contains ';', '=' or NUL, which CNI_ARGS cannot carry", v)
		}
	}
	return nil
}

// planIfnames gives each requested attachment its interface name as the
// real plugin does: requested names are reserved first, the others get the
// lowest free ethN.
func planIfnames(reqs []ocicni.NetAttachment) ([]string, error) {
	names := make([]string, len(reqs))
	used := map[string]bool{}
	for i, r := range reqs {
		if r.Ifname == "" {
			continue
		}
		if err := utils.ValidateInterfaceName(r.Ifname); err != nil {
			return nil, invalidf("interface name %q for network %q: %s", r.Ifname, r.Name, err.Msg)
		}
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
