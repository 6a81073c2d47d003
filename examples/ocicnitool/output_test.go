package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/libcni"
	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
)

// bridgeResult is what bridge + host-local report: the bridge, the host
// veth and the pod's interface, with the address on the pod's.
func bridgeResult(t *testing.T, cidr string) *current.Result {
	t.Helper()
	ip, ipnet, err := net.ParseCIDR(cidr)
	if err != nil {
		t.Fatal(err)
	}
	ipnet.IP = ip
	idx := 2
	return &current.Result{
		CNIVersion: "1.0.0",
		Interfaces: []*current.Interface{
			{Name: "cni0", Mac: "aa:aa:aa:aa:aa:aa"},
			{Name: "veth1", Mac: "bb:bb:bb:bb:bb:bb"},
			{Name: "eth0", Mac: "02:42:0a:16:00:02", Sandbox: "/run/netns/p"},
		},
		IPs: []*current.IPConfig{{Address: *ipnet, Gateway: net.ParseIP("10.22.0.1"), Interface: &idx}},
	}
}

func render(t *testing.T, r report, asJSON bool) string {
	t.Helper()
	var out bytes.Buffer
	inv := &invocation{stdout: &out, json: asJSON}
	if err := inv.emit(r); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestPodReportText(t *testing.T) {
	pod := ocicni.PodNetwork{ID: "cnitool-abc", NetNS: "/run/netns/p"}
	r, err := newPodReport(pod, []ocicni.NetResult{
		{Result: bridgeResult(t, "10.22.0.2/16"), NetAttachment: ocicni.NetAttachment{Name: "mynet", Ifname: "eth0"}},
		{Result: &current.Result{CNIVersion: "1.0.0"}, NetAttachment: ocicni.NetAttachment{Name: "empty", Ifname: "net1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `sandbox cnitool-abc  netns /run/netns/p
NETWORK  IFNAME  ADDRESS       GATEWAY    MAC
mynet    eth0    10.22.0.2/16  10.22.0.1  02:42:0a:16:00:02
empty    net1    -             -          -
`
	if got := render(t, r, false); got != want {
		t.Fatalf("text:\n%s\nwant:\n%s", got, want)
	}
	r.Attachments[0].Check = "passed"
	if got := render(t, r, false); !strings.Contains(got, "MAC                CHECK\n") || !strings.Contains(got, "passed\n") {
		t.Fatalf("check column missing:\n%s", got)
	}
}

func TestPodReportJSON(t *testing.T) {
	pod := ocicni.PodNetwork{ID: "cnitool-abc", NetNS: "/run/netns/p"}
	r, err := newPodReport(pod, []ocicni.NetResult{
		{Result: bridgeResult(t, "10.22.0.2/16"), NetAttachment: ocicni.NetAttachment{Name: "mynet", Ifname: "eth0"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	decodeJSON(t, render(t, r, true), &got)
	att := got["attachments"].([]any)[0].(map[string]any)
	if got["sandbox"] != "cnitool-abc" || got["netns"] != "/run/netns/p" || att["network"] != "mynet" ||
		att["ifname"] != "eth0" || att["mac"] != "02:42:0a:16:00:02" {
		t.Fatalf("json = %v", got)
	}
	addr := att["addresses"].([]any)[0].(map[string]any)
	if addr["address"] != "10.22.0.2/16" || addr["gateway"] != "10.22.0.1" {
		t.Fatalf("addresses = %v", att["addresses"])
	}
	if res := att["result"].(map[string]any); res["cniVersion"] != current.ImplementedSpecVersion || len(res["interfaces"].([]any)) != 3 {
		t.Fatalf("the plugin's result is not carried: %v", res)
	}
	if _, ok := att["check"]; ok {
		t.Fatal("check key present outside the check verb")
	}
}

func TestPodReportConvertsOldResults(t *testing.T) {
	old, err := bridgeResult(t, "10.22.0.9/16").GetAsVersion("0.3.1")
	if err != nil {
		t.Fatal(err)
	}
	av, err := newAttachmentView(ocicni.NetResult{Result: old, NetAttachment: ocicni.NetAttachment{Name: "n", Ifname: "eth0"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(av.Addresses) != 1 || av.Addresses[0].Address != "10.22.0.9/16" {
		t.Fatalf("0.3.1 result: %+v", av)
	}
}

func TestCheckVerdict(t *testing.T) {
	set := ocicni.NetworkSet{Networks: []ocicni.NetworkInfo{
		{Name: "new", CNIVersion: "1.0.0"},
		{Name: "off", CNIVersion: "1.0.0", DisableCheck: true},
		{Name: "old", CNIVersion: "0.3.1"},
	}}
	for name, want := range map[string]string{
		"new": "passed", "off": "not run: disableCheck is set", "old": "not run: cniVersion 0.3.1 has no CHECK",
	} {
		if got := checkVerdict(set, name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

func TestDelReportOutput(t *testing.T) {
	r := &delReport{Sandbox: "s1", NetNS: "/run/netns/p", Network: "mynet", Ifname: "eth0", Deleted: true}
	if got := render(t, r, false); got != "deleted network mynet (ifname eth0) from sandbox s1  netns /run/netns/p\n" {
		t.Fatalf("text = %q", got)
	}
	var got map[string]any
	decodeJSON(t, render(t, r, true), &got)
	want := map[string]any{"sandbox": "s1", "netns": "/run/netns/p", "network": "mynet", "ifname": "eth0", "deleted": true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("json = %v", got)
	}
}

func TestReadyReportOutput(t *testing.T) {
	set := ocicni.NetworkSet{ConfDir: "/etc/cni/net.d", Default: "mynet", Networks: []ocicni.NetworkInfo{
		{Name: "mynet", File: "/etc/cni/net.d/10-mynet.conflist", Default: true},
	}}
	ok := newReadyReport(set, nil)
	if got := render(t, ok, false); got != "ready: default network mynet (/etc/cni/net.d/10-mynet.conflist)\n" {
		t.Fatalf("text = %q", got)
	}
	notReady := newReadyReport(ocicni.NetworkSet{ConfDir: "/x"}, fmt.Errorf("%w: nothing in /x", ocicni.ErrNotReady))
	if got := render(t, notReady, false); got != "not ready: CNI network not ready: nothing in /x\n" {
		t.Fatalf("text = %q", got)
	}
	var got map[string]any
	decodeJSON(t, render(t, notReady, true), &got)
	want := map[string]any{"ready": false, "conf_dir": "/x", "default": "", "reason": "CNI network not ready: nothing in /x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("json = %v", got)
	}
}

func TestListReportOutput(t *testing.T) {
	set := ocicni.NetworkSet{
		ConfDir: "/d", Default: "a",
		Networks: []ocicni.NetworkInfo{
			{Name: "a", File: "/d/10-a.conflist", CNIVersion: "1.0.0", PluginTypes: []string{"bridge", "portmap"}, Default: true},
			{Name: "bb", File: "/d/20-b.conflist", CNIVersion: "0.4.0", PluginTypes: []string{"ptp"}, DisableGC: true},
		},
		Skipped: []ocicni.SkippedFile{{File: "/d/30-c.conflist", Reason: "is not a JSON object"}},
	}
	want := `NAME  DEFAULT  CNIVERSION  PLUGINS         FILE
a     *        1.0.0       bridge,portmap  /d/10-a.conflist
bb             0.4.0       ptp             /d/20-b.conflist

SKIPPED FILE      REASON
/d/30-c.conflist  is not a JSON object
`
	if got := render(t, newListReport(set), false); got != want {
		t.Fatalf("text:\n%s\nwant:\n%s", got, want)
	}
	var got listReport
	decodeJSON(t, render(t, newListReport(set), true), &got)
	if got.Default != "a" || len(got.Networks) != 2 || !reflect.DeepEqual(got.Networks[0].PluginTypes, []string{"bridge", "portmap"}) ||
		!got.Networks[1].DisableGC || got.Skipped[0].Reason != "is not a JSON object" {
		t.Fatalf("json = %+v", got)
	}
	if got := render(t, newListReport(ocicni.NetworkSet{ConfDir: "/empty"}), false); got != "no networks loaded from /empty\n" {
		t.Fatalf("empty: %q", got)
	}
	var raw map[string]any
	decodeJSON(t, render(t, newListReport(ocicni.NetworkSet{ConfDir: "/empty"}), true), &raw)
	if _, ok := raw["networks"].([]any); !ok {
		t.Fatalf("an empty list is not a JSON array: %v", raw)
	}
}

func TestGCReportOutput(t *testing.T) {
	att := func(id string) *libcni.NetworkAttachment {
		return &libcni.NetworkAttachment{ContainerID: id, Network: "mynet", IfName: "eth0"}
	}
	before := []*libcni.NetworkAttachment{att("keep-me"), att("stale"), att("sticky")}
	after := []*libcni.NetworkAttachment{att("keep-me"), att("sticky")}
	r := newGCReport([]string{"keep-me"}, before, after)
	want := `SANDBOX  NETWORK  IFNAME  STATE
keep-me  mynet    eth0    kept
stale    mynet    eth0    collected
sticky   mynet    eth0    left
`
	if got := render(t, r, false); got != want {
		t.Fatalf("text:\n%s\nwant:\n%s", got, want)
	}
	var got gcReport
	decodeJSON(t, render(t, r, true), &got)
	if !reflect.DeepEqual(got, *r) {
		t.Fatalf("json round trip = %+v", got)
	}
	if got := render(t, newGCReport(nil, nil, nil), false); got != "nothing cached; nothing to collect\n" {
		t.Fatalf("empty: %q", got)
	}
}

func TestErrorOutputCarriesPluginCode(t *testing.T) {
	err := fmt.Errorf("setting up: %w", &ocicni.OpError{
		Op: "add", Pod: "ns/p", ID: "s1", Network: "mynet", Ifname: "eth0",
		Err: &cnitypes.Error{Code: 7, Msg: "bad subnet", Details: "10.0.0.0/33"},
	})
	var text bytes.Buffer
	writeError(&text, false, "add", err)
	for _, want := range []string{"ocicnitool add: setting up: add network \"mynet\"", "CNI error code 7 (invalid network config): bad subnet", "details: 10.0.0.0/33"} {
		if !strings.Contains(text.String(), want) {
			t.Fatalf("text error does not say %q:\n%s", want, text.String())
		}
	}
	var js bytes.Buffer
	writeError(&js, true, "add", err)
	var got map[string]any
	decodeJSON(t, js.String(), &got)
	want := map[string]any{
		"error": err.Error(), "exit_code": float64(1), "code": float64(7), "code_name": "invalid network config",
		"msg": "bad subnet", "details": "10.0.0.0/33", "op": "add", "network": "mynet", "ifname": "eth0", "sandbox": "s1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("json error = %v\nwant %v", got, want)
	}
}

func TestErrorWithoutPluginCode(t *testing.T) {
	var text bytes.Buffer
	writeError(&text, false, "del", errors.New("disk on fire"))
	if text.String() != "ocicnitool del: disk on fire\n" {
		t.Fatalf("text = %q", text.String())
	}
	var js bytes.Buffer
	writeError(&js, true, "del", errors.New("disk on fire"))
	var got map[string]any
	decodeJSON(t, js.String(), &got)
	if !reflect.DeepEqual(got, map[string]any{"error": "disk on fire", "exit_code": float64(1)}) {
		t.Fatalf("json = %v", got)
	}
	var quiet bytes.Buffer
	writeError(&quiet, true, "ready", exitStatus(exitNotReady))
	if quiet.Len() != 0 {
		t.Fatalf("an exit status printed %q", quiet.String())
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{errors.New("x"), exitFailed},
		{usagef("x"), exitUsage},
		{fmt.Errorf("wrapped: %w", ocicni.ErrNotReady), exitNotReady},
		{exitStatus(exitNotReady), exitNotReady},
		{&ocicni.OpError{Err: &cnitypes.Error{Code: 11}}, exitFailed},
	} {
		if got := exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestCNICodeNames(t *testing.T) {
	for code, want := range map[uint]string{
		1: "incompatible CNI version", 8: "invalid network namespace", 11: "try again later",
		50: "plugin not available", 999: "internal error", 120: "plugin-specific", 42: "unknown",
	} {
		if got := cniCodeName(code); got != want {
			t.Errorf("code %d: %q, want %q", code, got, want)
		}
	}
}

// The JSON keys are the tool's interface to scripts: they are lower case.
func TestJSONKeysAreLowerCase(t *testing.T) {
	one := 1
	for _, v := range []any{
		podReport{Attachments: []attachmentView{{Addresses: []addressView{{}}, Check: "x"}}},
		delReport{}, readyReport{Reason: "x", File: "f"}, listReport{Networks: []networkView{{}}, Skipped: []skippedView{{}}},
		gcReport{Attachments: []gcAttachment{{}}}, change{Network: &networkView{}, File: "f", Reason: "r", ConfDir: "d", Networks: &one, Skipped: &one},
		newErrorReport(&ocicni.OpError{Op: "add", ID: "i", Network: "n", Ifname: "e", Err: &cnitypes.Error{Code: 1, Msg: "m", Details: "d"}}),
	} {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case map[string]any:
				for k, sub := range x {
					if k != strings.ToLower(k) {
						t.Errorf("%T: key %q is not lower case", v, k)
					}
					walk(sub)
				}
			case []any:
				for _, sub := range x {
					walk(sub)
				}
			}
		}
		var decoded any
		decodeJSON(t, string(data), &decoded)
		walk(decoded)
	}
}
