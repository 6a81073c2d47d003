package main

import (
	"context"
	"fmt"

	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/ocicni"
)

const podArgs = "NETWORK NETNS-PATH"

const podHelp = `
NETWORK is the "name" of a loaded configuration; NETNS-PATH is the network
namespace, for example /run/netns/pod1. The sandbox ID is --container-id,
else K8S_POD_INFRA_CONTAINER_ID from CNI_ARGS, else derived from the netns
path as cnitool derives it, so an attachment cnitool made can be checked or
removed here and the other way round.

CNI_ARGS keys other than IP, MAC, IgnoreUnknown and K8S_POD_* are refused:
the library builds CNI_ARGS itself. Put other values in the configuration's
"args", or in CAP_ARGS for a plugin that declares the capability. The
K8S_POD_* keys are sent only when CNI_ARGS names one of them; MAC is sent as
both CNI_ARGS MAC and the "mac" capability.

With --timings the output ends with how long the operation took, broken
down by network and by plugin exec, also when it failed (with --json, under
"timings").`

func addVerb() *verb {
	return &verb{
		name: "add", args: podArgs, minArgs: 2, maxArgs: 2,
		summary: "attach the namespace to the network; print its addresses",
		help: podHelp + `

A failed ADD is rolled back (DEL) before the error is printed. Adding an
attachment that is already cached for the sandbox fails: del it first.

With --networks-annotation, the value of a pod's k8s.v1.cni.cncf.io/networks
annotation (the comma list [namespace/]name[@interface] or the JSON list)
selects further networks: NETWORK stays the default network, on eth0, and
the selected ones follow on net1, net2, ... unless they name their
interface. A "default-route" request moves the pod's
default route after the ADDs; a failure there tears the whole pod down. The
output ends with the k8s.v1.cni.cncf.io/network-status annotation (with
--json, under "network_status"). The pod's namespace for "ns/name"
resolution is K8S_POD_NAMESPACE from CNI_ARGS.`,
		flags: addFlags,
		run:   timed(runAdd),
	}
}

func checkVerb() *verb {
	return &verb{
		name: "check", args: podArgs, minArgs: 2, maxArgs: 2,
		summary: "run the plugins' CHECK on the attachment; exit 1 if it fails",
		help: podHelp + `

CHECK runs with the configuration cached at ADD time, when its cniVersion
is 0.4.0 or later and disableCheck is not set; the CHECK column says
whether it ran.`,
		flags: podFlags,
		run:   timed(runCheck),
	}
}

func delVerb() *verb {
	return &verb{
		name: "del", args: podArgs, minArgs: 2, maxArgs: 2,
		summary: "detach the namespace from the network",
		help: podHelp + `

DEL runs with the configuration cached at ADD time, so it works after the
file changed or went away. Deleting twice, or with a namespace that no
longer exists, succeeds.

With --networks-annotation, give the same annotation that add was given:
del then detaches NETWORK and every network the annotation selects, on
the interfaces add gave them, and prints one line per network. Without it,
del detaches NETWORK alone (on --ifname) and leaves the others attached.`,
		flags: addFlags,
		run:   timed(runDel),
	}
}

func statusVerb() *verb {
	return &verb{
		name: "status", args: podArgs, minArgs: 2, maxArgs: 2,
		summary: "print the attachment's interface and addresses",
		help: podHelp + `

The addresses come from the result cached at ADD time or, when there is
none, from the interface in the namespace. Like the library's
GetPodNetworkStatus it runs CHECK first where the configuration allows it,
and fails when CHECK does.`,
		flags: podFlags,
		run:   timed(runStatus),
	}
}

// options are the library options a pod request needs beyond the
// invocation's.
func (req *podRequest) options() []ocicni.Option {
	return []ocicni.Option{ocicni.WithKubernetesArgs(req.kubernetesArgs)}
}

// podPlugin builds the request and a Plugin for it. The caller shuts the
// Plugin down.
func (inv *invocation) podPlugin() (*podRequest, *ocicni.Plugin, error) {
	req, err := inv.podRequest()
	if err != nil {
		return nil, nil, err
	}
	p, err := inv.newPlugin(false, append(req.options(), inv.timingOptions()...)...)
	if err != nil {
		return nil, nil, err
	}
	return req, p, nil
}

func runAdd(ctx context.Context, inv *invocation) error {
	req, p, err := inv.podPlugin()
	if err != nil {
		return err
	}
	defer p.Shutdown()
	if inv.networksAnnotation != "" {
		return addSelection(ctx, inv, req, p)
	}
	results, err := p.SetUpPodWithContext(ctx, req.pod)
	if err != nil {
		return err
	}
	r, err := newPodReport(req.pod, results)
	if err != nil {
		return err
	}
	return inv.emit(r)
}

func runStatus(ctx context.Context, inv *invocation) error { return emitStatus(ctx, inv, false) }

func runCheck(ctx context.Context, inv *invocation) error { return emitStatus(ctx, inv, true) }

// emitStatus prints the attachment's status, with whether CHECK ran for
// check.
func emitStatus(ctx context.Context, inv *invocation, withCheck bool) error {
	req, p, err := inv.podPlugin()
	if err != nil {
		return err
	}
	defer p.Shutdown()
	r, err := podStatus(ctx, p, req)
	if err != nil {
		return err
	}
	if withCheck {
		loaded := p.Networks()
		for i := range r.Attachments {
			r.Attachments[i].Check = checkVerdict(loaded, r.Attachments[i].Network)
		}
	}
	return inv.emit(r)
}

// podStatus asks the library for the attachment's status; that runs CHECK
// where the configuration allows it.
func podStatus(ctx context.Context, p *ocicni.Plugin, req *podRequest) (*podReport, error) {
	results, err := p.GetPodNetworkStatusWithContext(ctx, req.pod)
	if err != nil {
		return nil, err
	}
	return newPodReport(req.pod, results)
}

// checkVerdict says whether the library ran CHECK for a network that
// passed status, judging by its loaded configuration (the cached one is
// normally the same).
func checkVerdict(set ocicni.NetworkSet, network string) string {
	for _, n := range set.Networks {
		if n.Name != network {
			continue
		}
		if n.DisableCheck {
			return "not run: disableCheck is set"
		}
		if ok, _ := version.GreaterThanOrEqualTo(n.CNIVersion, "0.4.0"); !ok {
			return fmt.Sprintf("not run: cniVersion %s has no CHECK", n.CNIVersion)
		}
		return "passed"
	}
	return "passed, if the cached configuration allows CHECK (network no longer loaded)"
}

func runDel(ctx context.Context, inv *invocation) error {
	req, p, err := inv.podPlugin()
	if err != nil {
		return err
	}
	defer p.Shutdown()
	if inv.networksAnnotation != "" {
		return delSelection(ctx, inv, req, p)
	}
	if err := p.TearDownPodWithContext(ctx, req.pod); err != nil {
		return err
	}
	return inv.emit(newDelReport(req.pod))
}
