package ocicni

import (
	"context"

	"github.com/netplumb/ocicni/internal/pluginexec"
)

// TearDownPod detaches the pod; see CNIPlugin.
func (p *Plugin) TearDownPod(pod PodNetwork) error {
	return p.TearDownPodWithContext(context.Background(), pod)
}

// TearDownPodWithContext detaches the pod from the requested networks, or
// from every network the result cache records for the sandbox when none are
// requested, in reverse attach order. Each DEL uses the configuration and
// arguments cached at ADD time, so a network whose file changed or vanished
// is still removed by the plugins that added it. It keeps going past
// failures and returns them joined; a failed DEL leaves its cache entry so a
// later call can retry. Tearing down twice, or with an empty or deleted
// netns path, succeeds.
func (p *Plugin) TearDownPodWithContext(ctx context.Context, pod PodNetwork) (err error) {
	ctx, span := p.tel.startOp(ctx, "teardown", &pod)
	defer span.endOp(&err)
	if err := validateID(&pod); err != nil {
		return err
	}
	set, err := p.conf.Current(ctx)
	if err != nil {
		return err
	}
	unlock, err := p.lockPod(ctx, pod.ID)
	if err != nil {
		return err
	}
	defer unlock()
	atts, err := p.planExisting(set, &pod)
	if err != nil {
		return err
	}
	if len(atts) == 0 && len(pod.Networks) == 0 && set.Default != nil {
		// Nothing is cached for the sandbox: it may have been set up
		// before an upgrade, or by a process that died before recording
		// anything. DEL the default network, as cri-o/ocicni does; a DEL
		// of something never added succeeds.
		n := set.Default
		atts = []*attachment{{name: n.Name, ifname: DefaultInterfaceName, net: n, list: n.List,
			rt: p.existingConf(&pod, n.Name, DefaultInterfaceName), noCache: true}}
	}
	err = p.forEachNetwork(ctx, &pod, stepDel, atts, reverseKeepGoing, func(ctx context.Context, a *attachment) error {
		log := p.opts.logger.WithFields(pluginexec.LogFields(ctx))
		if a.list == nil {
			log.Warn("nothing cached and network not configured; nothing to tear down")
			return nil
		}
		if a.noCache {
			log.Warn("no cache entry for this attachment; tearing down with the current configuration of the network")
		} else if a.net == nil || a.net.List != a.list {
			log.Debug("tearing down with the configuration cached at setup")
		}
		return p.del(ctx, a)
	})
	return err
}
