package netselect

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

// teardownTimeout bounds the teardown after a failed default-route
// change; it runs on a context detached from the caller's, because a
// caller that gave up still must not leak the attachments.
const teardownTimeout = 2 * time.Minute

// route is one default route to install: through gw on ifname.
type route struct {
	network, ifname string
	gw              net.IP
}

// SetUp attaches pod to the selection's networks through plugin and then
// honours default-route: inside the pod's network namespace each
// requested gateway becomes the only default route of its address family,
// through the requesting entry's interface. pod must not list networks of
// its own (see Apply). Results are in the selection's order.
//
// When the setup fails, the plugin has already rolled it back. When a
// default route cannot be set (the gateway is not reachable on that
// interface, say), SetUp tears down every network it attached, with the
// same networks, and returns the route error (joined with the teardown's,
// if that fails too).
func SetUp(ctx context.Context, plugin ocicni.CNIPlugin, pod ocicni.PodNetwork, sel Selection) ([]ocicni.NetResult, error) {
	applied, err := sel.Apply(pod)
	if err != nil {
		return nil, err
	}
	results, err := plugin.SetUpPodWithContext(ctx, applied)
	if err != nil {
		return nil, err
	}
	var routes []route
	for _, a := range sel.Attachments {
		for _, gw := range a.DefaultRoute {
			routes = append(routes, route{network: a.Network, ifname: a.Ifname, gw: gw})
		}
	}
	if len(routes) == 0 {
		return results, nil
	}
	if err := setDefaultRoutes(applied.NetNS, routes); err != nil {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
		defer cancel()
		if terr := plugin.TearDownPodWithContext(tctx, applied); terr != nil {
			return nil, fmt.Errorf("%w; tearing the pod down again also failed: %w", err, terr)
		}
		return nil, err
	}
	return results, nil
}
