package ocicnitest

import (
	"github.com/netplumb/ocicni/ocicni"
)

// validateID refuses what the real plugin refuses before a teardown or a
// status; setup uses ocicni.ValidatePodNetwork, which checks this and more.
func validateID(pod *ocicni.PodNetwork) error {
	return ocicni.ValidateSandbox(*pod)
}

// planIfnames gives each requested attachment its interface name exactly
// as the real plugin does.
func planIfnames(reqs []ocicni.NetAttachment) ([]string, error) {
	return ocicni.InterfaceNames(reqs)
}
