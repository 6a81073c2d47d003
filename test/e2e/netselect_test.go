//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/netselect"
)

// selWorld is a world with three bridge networks for the selection tests:
// podnet (the default, whose bridge plugin installs a default route),
// staticnet (static IPAM fed by the ips and mac capabilities) and routenet
// (host-local, on a bridge that is a gateway). The extra bridges are
// removed when the test ends.
type selWorld struct {
	*world
	staticBridge, routeBridge, routeData string
	routeSubnet, routeGW                 string
}

func newSelWorld(t *testing.T) *selWorld {
	w := &selWorld{world: newWorld(t)}
	w.staticBridge, w.routeBridge, w.routeData = w.bridge+"s", w.bridge+"r", t.TempDir()
	w.routeSubnet, w.routeGW = fmt.Sprintf("10.97.%d.0/24", w.n), fmt.Sprintf("10.97.%d.1", w.n)
	t.Cleanup(func() {
		for _, br := range []string{w.staticBridge, w.routeBridge} {
			if l, err := netlink.LinkByName(br); err == nil {
				_ = netlink.LinkDel(l)
			}
		}
	})
	def := w.bridgeNet("podnet")
	def["plugins"].([]map[string]any)[0]["isDefaultGateway"] = true
	w.writeConf("10-podnet.conflist", def)
	w.writeConf("20-staticnet.conflist", map[string]any{
		"cniVersion": "1.1.0", "name": "staticnet",
		"plugins": []map[string]any{{
			"type": "bridge", "bridge": w.staticBridge,
			"capabilities": map[string]bool{"ips": true, "mac": true},
			"ipam":         map[string]any{"type": "static"},
		}},
	})
	w.writeConf("30-routenet.conflist", bridgeNetOn("routenet", w.routeBridge, w.routeSubnet, w.routeData))
	return w
}

// assertSelClean checks that nothing of the world's pods is left on any
// of its three networks.
func (w *selWorld) assertSelClean(t *testing.T) {
	t.Helper()
	assertClean(t, w.world, "podnet")
	for _, br := range []string{w.staticBridge, w.routeBridge} {
		if ports := bridgePorts(t, br); len(ports) != 0 {
			t.Fatalf("veths left on %s: %v", br, ports)
		}
	}
	if r := reservations(t, w.routeData, "routenet"); len(r) != 0 {
		t.Fatalf("host-local reservations left for routenet: %v", r)
	}
}

// defaultRoutes lists the pod's IPv4 default routes as "gateway dev ifname".
func defaultRoutes(t *testing.T, nsPath string) []string {
	t.Helper()
	h := handleIn(t, nsPath)
	defer h.Close()
	routes, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, rt := range routes {
		if rt.Dst != nil {
			if ones, _ := rt.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		l, err := h.LinkByIndex(rt.LinkIndex)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s dev %s", rt.Gw, l.Attrs().Name))
	}
	return out
}

// podLinks lists the pod's interfaces other than lo.
func podLinks(t *testing.T, nsPath string) []string {
	t.Helper()
	h := handleIn(t, nsPath)
	defer h.Close()
	links, err := h.LinkList()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().Name != "lo" {
			out = append(out, l.Attrs().Name)
		}
	}
	sort.Strings(out)
	return out
}

// An annotation selects two extra networks, one with a static IP and MAC
// and one that takes the default route. The kernel shows the interfaces,
// addresses, MACs and the single default route the status annotation
// reports; a status call yields the same annotation; teardown leaves
// nothing on any network.
func TestNetworkSelectionAnnotation(t *testing.T) {
	w := newSelWorld(t)
	p := w.plugin()
	staticIP, staticMAC := fmt.Sprintf("10.95.%d.5/24", w.n), "02:42:ac:5e:00:05"
	annotation := fmt.Sprintf(`[
		{"name": "staticnet", "interface": "static0", "ips": [%q], "mac": %q},
		{"name": "routenet", "namespace": "infra", "default-route": [%q]}]`, staticIP, staticMAC, w.routeGW)
	pod := w.pod("sel")
	sel, err := netselect.Parse(annotation, netselect.CatalogOf(p.Networks()), netselect.WithNamespace(pod.Namespace))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	ctx := context.Background()
	res, err := netselect.SetUp(ctx, p, pod, sel)
	if err != nil {
		t.Fatalf("SetUp: %v", err)
	}
	data, err := sel.Status(res)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	t.Logf("%s: %s", netselect.NetworkStatusAnnotation, data)
	var status []netselect.NetworkStatus
	if err := json.Unmarshal(data, &status); err != nil {
		t.Fatal(err)
	}

	if got, want := podLinks(t, pod.NetNS), []string{"eth0", "net2", "static0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod interfaces = %v, want %v", got, want)
	}
	wantNames := []string{"podnet", "e2e/staticnet", "infra/routenet"}
	wantIfs := []string{"eth0", "static0", "net2"}
	if len(status) != 3 {
		t.Fatalf("status has %d entries, want 3", len(status))
	}
	for i, st := range status {
		if st.Name != wantNames[i] || st.Interface != wantIfs[i] || st.Default != (i == 0) {
			t.Fatalf("status[%d] = %+v, want name %s on %s, default %v", i, st, wantNames[i], wantIfs[i], i == 0)
		}
		var kernelIPs []string
		for _, a := range kernelAddrs(t, pod.NetNS, st.Interface) {
			ip, _, _ := net.ParseCIDR(a)
			kernelIPs = append(kernelIPs, ip.String())
		}
		if !reflect.DeepEqual(st.IPs, kernelIPs) || len(kernelIPs) != 1 {
			t.Fatalf("%s: status reports %v, kernel shows %v", st.Interface, st.IPs, kernelIPs)
		}
		l := podLink(t, pod.NetNS, st.Interface)
		if st.Mac != l.Attrs().HardwareAddr.String() {
			t.Fatalf("%s: status reports MAC %s, kernel shows %s", st.Interface, st.Mac, l.Attrs().HardwareAddr)
		}
		if st.Mtu != 0 && st.Mtu != l.Attrs().MTU {
			t.Fatalf("%s: status reports MTU %d, kernel shows %d", st.Interface, st.Mtu, l.Attrs().MTU)
		}
	}
	if status[1].Mac != staticMAC || status[1].IPs[0]+"/24" != staticIP {
		t.Fatalf("static0 = %+v, want %s and %s", status[1], staticIP, staticMAC)
	}
	// podnet's bridge plugin installed a default route through eth0 (its
	// result says so); SetUp replaced it.
	var podnetDefault bool
	for _, rt := range asCurrent(t, res[0]).Routes {
		if ones, _ := rt.Dst.Mask.Size(); ones == 0 && rt.Dst.IP.To4() != nil {
			podnetDefault = true
		}
	}
	if !podnetDefault {
		t.Fatalf("podnet's result reports no IPv4 default route: %+v", asCurrent(t, res[0]).Routes)
	}
	if got, want := defaultRoutes(t, pod.NetNS), []string{w.routeGW + " dev net2"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("pod default routes = %v, want %v", got, want)
	}
	if status[0].Gateway != nil || status[1].Gateway != nil || !reflect.DeepEqual(status[2].Gateway, []string{w.routeGW}) {
		t.Fatalf("status gateways = %v, %v, %v; want only net2 via %s", status[0].Gateway, status[1].Gateway, status[2].Gateway, w.routeGW)
	}

	applied, err := sel.Apply(pod)
	if err != nil {
		t.Fatal(err)
	}
	now, err := p.GetPodNetworkStatusWithContext(ctx, applied)
	if err != nil {
		t.Fatalf("GetPodNetworkStatus: %v", err)
	}
	if again, err := sel.Status(now); err != nil || string(again) != string(data) {
		t.Fatalf("status from a status call = %s (%v), want %s", again, err, data)
	}

	if err := p.TearDownPodWithContext(ctx, ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		t.Fatalf("TearDownPod: %v", err)
	}
	if got := podLinks(t, pod.NetNS); len(got) != 0 {
		t.Fatalf("pod interfaces left after teardown: %v", got)
	}
	w.assertSelClean(t)
}

// When the network after the default fails on ADD, the default network
// is rolled back too: nothing in the pod, on any bridge, in any IPAM
// store or in the cache, and the error names the failing network.
func TestNetworkSelectionFailedNetworkRollsBack(t *testing.T) {
	w := newSelWorld(t)
	w.writeConf("40-broken.conflist", bridgeNetOn("broken", w.routeBridge, w.routeSubnet, w.routeData,
		map[string]any{"type": "tuning", "sysctl": map[string]string{"net.ipv4.conf.net2.e2e_no_such_knob": "1"}}))
	p := w.plugin()
	pod := w.pod("selfail")
	sel, err := netselect.Parse("routenet@r0, broken", netselect.CatalogOf(p.Networks()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = netselect.SetUp(context.Background(), p, pod, sel)
	var opErr *ocicni.OpError
	if !errors.As(err, &opErr) || opErr.Network != "broken" || opErr.Ifname != "net2" || opErr.Op != "add" {
		t.Fatalf("SetUp error %v: want an *OpError for add of broken/net2", err)
	}
	if got := podLinks(t, pod.NetNS); len(got) != 0 {
		t.Fatalf("pod interfaces left after the rollback: %v", got)
	}
	w.assertSelClean(t)
	if r := reservations(t, w.routeData, "broken"); len(r) != 0 {
		t.Fatalf("host-local reservations left for broken: %v", r)
	}
}

// A default-route gateway the interface cannot reach fails after every
// ADD succeeded; SetUp then tears the whole pod down.
func TestNetworkSelectionUnreachableGatewayRollsBack(t *testing.T) {
	w := newSelWorld(t)
	p := w.plugin()
	pod := w.pod("selgw")
	annotation := fmt.Sprintf(`[{"name":"routenet","default-route":["10.94.%d.1"]}]`, w.n)
	sel, err := netselect.Parse(annotation, netselect.CatalogOf(p.Networks()))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	_, err = netselect.SetUp(context.Background(), p, pod, sel)
	if !errors.Is(err, unix.ENETUNREACH) {
		t.Fatalf("SetUp error %v, want the kernel's ENETUNREACH", err)
	}
	if got := podLinks(t, pod.NetNS); len(got) != 0 {
		t.Fatalf("pod interfaces left after the rollback: %v", got)
	}
	w.assertSelClean(t)
}
