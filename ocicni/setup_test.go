package ocicni

import (
	"reflect"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestSetUpTearDownDefaultNetwork(t *testing.T) {
	e := newEnv(t)
	dbg := e.noopDebug(debug.Debug{ReportResult: noopResult("10.1.0.5")})
	logs := e.writeNoopList("10-net.conflist", "net1", "1.0.0", dbg)
	p := e.plugin()
	if got := p.GetDefaultNetworkName(); got != "net1" {
		t.Fatalf("default network = %q, want net1", got)
	}
	pod := PodNetwork{Name: "web", Namespace: "ns", ID: "abc123", UID: "u1", NetNS: testutil.NewNetNS(t)}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Name != "net1" || res[0].Ifname != "eth0" {
		t.Fatalf("results = %+v", res)
	}
	r, err := current.NewResultFromResult(res[0].Result)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.IPs[0].Address.IP.String(); got != "10.1.0.5" {
		t.Fatalf("address = %s", got)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"net1-abc123-eth0"}) {
		t.Fatalf("cache = %v", got)
	}
	if err := p.TearDownPod(PodNetwork{ID: "abc123", NetNS: pod.NetNS}); err != nil {
		t.Fatal(err)
	}
	if got := commands(t, logs[0]); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("commands = %v", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}
