package netselect

import (
	"bytes"
	"encoding/json"
	"net"
	"reflect"
	"testing"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
)

// multusStatus has the JSON field names and shapes of multus's published
// NetworkStatus type (network-attachment-definition-client,
// pkg/apis/k8s.cni.cncf.io/v1), device-info aside. The annotation must
// decode into it with no field left over.
type multusStatus struct {
	Name      string   `json:"name"`
	Interface string   `json:"interface,omitempty"`
	IPs       []string `json:"ips,omitempty"`
	Mac       string   `json:"mac,omitempty"`
	Mtu       int      `json:"mtu,omitempty"`
	Default   bool     `json:"default,omitempty"`
	DNS       struct {
		Nameservers []string `json:"nameservers,omitempty"`
		Domain      string   `json:"domain,omitempty"`
		Search      []string `json:"search,omitempty"`
		Options     []string `json:"options,omitempty"`
	} `json:"dns,omitempty"`
	Gateway []string `json:"gateway,omitempty"`
}

// selectionResults is a default network with a default route and DNS,
// and two selected networks, one of which takes the IPv4 default route.
func selectionResults(t *testing.T) (Selection, []ocicni.NetResult) {
	t.Helper()
	sel := mustParse(t, `[{"name":"datanet","namespace":"infra","interface":"data0","mac":"02:00:00:00:00:0d"},
		{"name":"storage","default-route":["10.2.0.1"]}]`, WithNamespace("web"))
	def := podResult("eth0", "02:00:00:00:00:01", "10.0.0.2/24", "10.0.0.1")
	def.DNS = cnitypes.DNS{Nameservers: []string{"10.0.0.53"}, Domain: "cluster.local", Search: []string{"web.svc"}, Options: []string{"ndots:5"}}
	results := []ocicni.NetResult{
		{NetAttachment: ocicni.NetAttachment{Name: "storage", Ifname: "net2"}, Result: podResult("net2", "02:00:00:00:00:03", "10.2.0.7/24", "")},
		{NetAttachment: ocicni.NetAttachment{Name: "podnet", Ifname: "eth0"}, Result: def},
		{NetAttachment: ocicni.NetAttachment{Name: "datanet", Ifname: "data0"}, Result: podResult("data0", "02:00:00:00:00:0d", "10.1.0.5/24", "10.1.0.1")},
	}
	return sel, results
}

// The status lists every attachment in selection order — whatever the
// order of the results — with the fields multus writes, and the default
// route where SetUp put it.
func TestStatusFollowsSelection(t *testing.T) {
	sel, results := selectionResults(t)
	got, err := sel.Statuses(results)
	if err != nil {
		t.Fatal(err)
	}
	want := []NetworkStatus{
		{Name: "podnet", Interface: "eth0", IPs: []string{"10.0.0.2"}, Mac: "02:00:00:00:00:01", Mtu: 1500, Default: true,
			DNS: DNS{Nameservers: []string{"10.0.0.53"}, Domain: "cluster.local", Search: []string{"web.svc"}, Options: []string{"ndots:5"}}},
		{Name: "infra/datanet", Interface: "data0", IPs: []string{"10.1.0.5"}, Mac: "02:00:00:00:00:0d", Mtu: 1500},
		{Name: "web/storage", Interface: "net2", IPs: []string{"10.2.0.7"}, Mac: "02:00:00:00:00:03", Mtu: 1500, Gateway: []string{"10.2.0.1"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses:\n got %+v\nwant %+v", got, want)
	}
}

// Without default-route, each network keeps the default-route gateways its
// plugin reported, IPv6 ones included.
func TestStatusKeepsReportedGateways(t *testing.T) {
	sel := mustParse(t, "datanet")
	dual := podResult("net1", "02:00:00:00:00:02", "10.1.0.5/24", "10.1.0.1")
	_, v6all, _ := net.ParseCIDR("::/0")
	_, other, _ := net.ParseCIDR("192.168.0.0/16")
	dual.Routes = append(dual.Routes, &cnitypes.Route{Dst: *v6all, GW: net.ParseIP("fd00::1")}, &cnitypes.Route{Dst: *other, GW: net.ParseIP("10.1.0.254")})
	got, err := sel.Statuses([]ocicni.NetResult{
		{NetAttachment: ocicni.NetAttachment{Name: "podnet", Ifname: "eth0"}, Result: podResult("eth0", "02:00:00:00:00:01", "10.0.0.2/24", "10.0.0.1")},
		{NetAttachment: ocicni.NetAttachment{Name: "datanet", Ifname: "net1"}, Result: dual},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[0].Gateway, []string{"10.0.0.1"}) || !reflect.DeepEqual(got[1].Gateway, []string{"10.1.0.1", "fd00::1"}) {
		t.Fatalf("gateways = %v and %v, want [10.0.0.1] and [10.1.0.1 fd00::1]", got[0].Gateway, got[1].Gateway)
	}
}

// The annotation is a JSON list that decodes into multus's type with no
// unknown field, and carries "dns" even when empty, as multus's does.
func TestStatusJSONMatchesMultus(t *testing.T) {
	sel, results := selectionResults(t)
	data, err := sel.Status(results)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var back []multusStatus
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("annotation %s does not decode into multus's shape: %v", data, err)
	}
	if len(back) != 3 || back[0].Name != "podnet" || !back[0].Default || back[2].Gateway[0] != "10.2.0.1" || back[1].Mac != "02:00:00:00:00:0d" {
		t.Fatalf("decoded %+v from %s", back, data)
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	if string(raw[1]["dns"]) != "{}" {
		t.Fatalf(`entry 1 dns = %s, want {}`, raw[1]["dns"])
	}
	if _, ok := raw[1]["default"]; ok {
		t.Fatalf("entry 1 carries default although it is not the default network: %s", data)
	}
}

// A result that names no interface for its address still gives the
// address to the attachment; a result with no sandbox interface gives
// no MAC.
func TestStatusAddressWithoutInterface(t *testing.T) {
	sel := mustParse(t, "")
	_, ipnet, _ := net.ParseCIDR("10.0.0.2/24")
	ipnet.IP = net.ParseIP("10.0.0.2")
	res := &current.Result{CNIVersion: "1.1.0", IPs: []*current.IPConfig{{Address: *ipnet}}}
	got, err := sel.Statuses([]ocicni.NetResult{{NetAttachment: ocicni.NetAttachment{Name: "podnet", Ifname: "eth0"}, Result: res}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []NetworkStatus{{Name: "podnet", Interface: "eth0", IPs: []string{"10.0.0.2"}, Default: true}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses = %+v, want %+v", got, want)
	}
}

// Every attachment needs a result; results outside the selection are
// left out.
func TestStatusMissingAndExtraResults(t *testing.T) {
	sel, results := selectionResults(t)
	if _, err := sel.Status(results[1:]); err == nil {
		t.Fatal("Status without the storage result succeeded")
	}
	extra := append(results, ocicni.NetResult{NetAttachment: ocicni.NetAttachment{Name: "macnet", Ifname: "net9"}, Result: podResult("net9", "02:00:00:00:00:09", "10.9.0.2/24", "")})
	got, err := sel.Statuses(extra)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d statuses, want the selection's 3", len(got))
	}
	broken := append([]ocicni.NetResult(nil), results...)
	broken[0].Result = nil
	if _, err := sel.Status(broken); err == nil {
		t.Fatal("Status with a nil result succeeded")
	}
}
