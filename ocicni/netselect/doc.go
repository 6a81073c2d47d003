// Package netselect lets a runtime honour the Kubernetes multi-network
// pod annotations directly, with no meta-plugin in between: it reads the
// network-selection annotation (k8s.v1.cni.cncf.io/networks), turns it
// into the Networks and RuntimeConfig of an ocicni.PodNetwork, sets the
// pod up through any ocicni.CNIPlugin (moving the default route when an
// entry asks for it), and writes the network-status annotation
// (k8s.v1.cni.cncf.io/network-status) from the results.
//
// The call sequence is:
//
//	sel, err := netselect.Parse(annotation, netselect.CatalogOf(plugin.Networks()), netselect.WithNamespace(pod.Namespace))
//	results, err := netselect.SetUp(ctx, plugin, pod, sel)
//	status, err := sel.Status(results)
//
// Teardown needs nothing from this package: TearDownPod with the sandbox
// ID and netns (the result cache knows every attachment), or with the pod
// Apply returns. A status call works the same way, and its results give
// the same annotation through Status.
//
// Parse refuses everything it can before any plugin runs: a malformed
// entry is an *EntryError matching ocicni.ErrInvalidPodNetwork, a name
// that resolves to no loaded network one matching ocicni.ErrNetworkNotFound.
//
// # Interfaces
//
// The default network comes first, on eth0. The selected networks follow
// in annotation order; entry i (counting from 0) gets the interface it
// names, or net<i+1> — the name multus gives it — when it names none.
//
// # Namespaces
//
// CNI network names cannot contain '/', so a namespaced reference is
// mapped onto the flat set of loaded networks: an entry with namespace ns
// (its own, or the pod's namespace given with WithNamespace) and name n
// resolves to the loaded network "ns.n" when there is one, and to "n"
// otherwise. A Kubernetes namespace never contains a dot, so "ns.n" is
// unambiguous, and an operator can give one namespace its own variant of
// a network while every other namespace shares the plain one. With no
// namespace at all (neither the entry's nor the pod's), n resolves to "n"
// only. The status annotation names the attachment "ns/n" (or "n" without
// a namespace), as multus does.
//
// # Default route
//
// An entry's default-route lists gateways, at most one per address family
// and, across the selection, at most one entry per family. After every
// ADD succeeded, SetUp makes each the only default route of its family in
// the pod's main routing table, through that entry's interface. The
// status annotation's gateway lists follow: the chosen interface lists the
// requested gateway, the others lose their default-route gateways of that
// family. "default": true marks the default network's attachment, as
// multus marks the cluster network, wherever the default route goes.
//
// # Runtime settings
//
// ips, mac, infiniband-guid, deviceID, portMappings and bandwidth become
// the network's ocicni.RuntimeConfig (IPs, MAC, InfinibandGUID, DeviceID,
// PortMappings, Bandwidth). Because RuntimeConfig is kept per network, not
// per attachment, a network selected more than once (the default network
// included) may carry none of them. cni-args has no counterpart in
// RuntimeConfig and is refused when non-empty, rather than silently
// dropped.
//
// # Limits
//
// Networks are the runtime's loaded CNI configurations; there are no
// NetworkAttachmentDefinition objects to fetch. The status carries no
// device-info, since CNI results have no place for it, and mtu only when
// the plugin reports one. The annotation that replaces the cluster
// default network (v1.multus-cni.io/default-network) is not read.
package netselect
