package ocicni

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A teardown whose record is damaged (empty, or garbled) sends the DEL the
// capability arguments the caller passes, as it would with no record at
// all, so portmap removes its rules and bandwidth its qdiscs. The old code
// sent none, and portmap left its iptables rules behind.
func TestDamagedRecordTearDownSendsCallersCapabilityArgs(t *testing.T) {
	for name, damage := range map[string][]byte{"empty": nil, "garbled": []byte(`{"kind":"cniCacheV1","con`)} {
		for _, byID := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "/named", true: "/byID"}[byID], func(t *testing.T) {
				e := newEnv(t)
				conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")}, "",
					capsConf("portMappings", "bandwidth"))
				e.writeList("10-n.conflist", "n", "1.0.0", nil, conf)
				p := e.plugin(WithWatch(false))
				pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n"}},
					RuntimeConfig: map[string]RuntimeConfig{"n": {
						PortMappings: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
						Bandwidth:    &BandwidthConfig{IngressRate: 1, EgressRate: 2},
					}}}
				setUp(t, p, pod)
				if err := os.WriteFile(filepath.Join(e.cache, "results", "n-sb1-eth0"), damage, 0o600); err != nil {
					t.Fatal(err)
				}
				if byID {
					pod.Networks = nil
				}
				tearDown(t, p, pod)
				d := testutil.LastCall(t, np.debug)
				if d.Command != "DEL" {
					t.Fatalf("last command %q, want DEL", d.Command)
				}
				got := testutil.StdinConf(t, d.CmdArgs.StdinData)["runtimeConfig"]
				want := asJSONValue(t, map[string]any{
					"portMappings": []map[string]any{{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}},
					"bandwidth":    map[string]any{"ingressRate": 1, "ingressBurst": 0, "egressRate": 2, "egressBurst": 0},
				})
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("DEL runtimeConfig = %v, want %v", got, want)
				}
				if got := e.cacheFiles(); len(got) != 0 {
					t.Fatalf("cache after teardown = %v", got)
				}
			})
		}
	}
}

// GC has no caller to ask; a damaged record's DEL still gets the
// capability arguments recorded at ADD.
func TestDamagedRecordGCSendsRecordedCapabilityArgs(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")}, "", capsConf("portMappings"))
	e.writeList("10-n.conflist", "n", "1.0.0", nil, conf)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n"}},
		RuntimeConfig: map[string]RuntimeConfig{"n": {PortMappings: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}}}}
	setUp(t, p, pod)
	if err := os.WriteFile(filepath.Join(e.cache, "results", "n-sb1-eth0"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	d := testutil.LastCall(t, np.debug)
	got := testutil.StdinConf(t, d.CmdArgs.StdinData)["runtimeConfig"]
	want := asJSONValue(t, map[string]any{"portMappings": []map[string]any{{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}}})
	if d.Command != "DEL" || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s runtimeConfig = %v, want DEL with %v", d.Command, got, want)
	}
}
