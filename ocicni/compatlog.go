package ocicni

import (
	"context"
	"fmt"

	"github.com/netplumb/ocicni/internal/pluginexec"
)

// logStep writes, at info level, the line cri-o/ocicni writes before each
// network step, word for word, so that operators' greps (and CRI-O's own
// network tests, which look for "Deleting pod.*from CNI network") keep
// working after the swap. The entry carries the step's structured fields
// (pod, sandbox, network, interface, plugins) as well. GC's DELs are logged
// as teardown's are.
func (p *Plugin) logStep(ctx context.Context, op step, pod *PodNetwork, a *attachment) {
	if a.list == nil || len(a.list.Plugins) == 0 {
		return
	}
	log := p.opts.logger.WithFields(pluginexec.LogFields(ctx)).WithField("op", string(op))
	name, typ := fullPodName(pod, a), a.list.Plugins[0].Network.Type
	switch op {
	case stepAdd:
		log.Infof("Adding pod %s to CNI network %q (type=%s)", name, a.name, typ)
	case stepDel, stepGC:
		log.Infof("Deleting pod %s from CNI network %q (type=%s)", name, a.name, typ)
	case stepStatus:
		log.Infof("Checking pod %s for CNI network %s (type=%s)", name, a.name, typ)
	}
}

// fullPodName is cri-o/ocicni's <namespace>_<name>. GC knows only a stale
// sandbox's ID; the names come from the arguments cached at its ADD.
func fullPodName(pod *PodNetwork, a *attachment) string {
	ns, name := pod.Namespace, pod.Name
	if ns == "" && name == "" && a.rt != nil {
		for _, kv := range a.rt.Args {
			switch kv[0] {
			case "K8S_POD_NAMESPACE":
				ns = kv[1]
			case "K8S_POD_NAME":
				name = kv[1]
			}
		}
	}
	return fmt.Sprintf("%s_%s", ns, name)
}
