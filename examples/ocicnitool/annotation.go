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
	sel, err := selection(inv, req, p)
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

// selection parses --networks-annotation with NETWORK as the default
// network, as add and del both read it.
func selection(inv *invocation, req *podRequest, p *ocicni.Plugin) (netselect.Selection, error) {
	catalog := netselect.CatalogOf(p.Networks())
	catalog.Default = req.pod.Networks[0].Name
	return netselect.Parse(inv.networksAnnotation, catalog, netselect.WithNamespace(req.pod.Namespace))
}

// delSelection is del with --networks-annotation: it detaches NETWORK and
// every network the annotation selects, on the interfaces add gave them,
// so the same command line with del undoes what add did.
func delSelection(ctx context.Context, inv *invocation, req *podRequest, p *ocicni.Plugin) error {
	sel, err := selection(inv, req, p)
	if err != nil {
		return err
	}
	pod := req.pod
	pod.Networks = sel.Networks()
	if err := p.TearDownPodWithContext(ctx, pod); err != nil {
		return err
	}
	return inv.emit(newDelReport(pod))
}
