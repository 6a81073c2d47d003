package main

import (
	"context"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/netselect"
)

// addSelection is add with --networks-annotation: NETWORK is the default
// network and the annotation selects the others, as a runtime honouring
// the Kubernetes multi-network annotations would do it.
func addSelection(ctx context.Context, inv *invocation, req *podRequest, p *ocicni.Plugin) error {
	catalog := netselect.CatalogOf(p.Networks())
	catalog.Default = req.pod.Networks[0].Name
	sel, err := netselect.Parse(inv.networksAnnotation, catalog, netselect.WithNamespace(req.pod.Namespace))
	if err != nil {
		return err
	}
	// The selection decides the networks and their interfaces.
	pod := req.pod
	pod.Networks = nil
	results, err := netselect.SetUp(ctx, p, pod, sel)
	if err != nil {
		return err
	}
	r, err := newPodReport(pod, results)
	if err != nil {
		return err
	}
	if r.NetworkStatus, err = sel.Status(results); err != nil {
		return err
	}
	return inv.emit(r)
}
