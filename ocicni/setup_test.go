package ocicni

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
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
	tearDown(t, p, PodNetwork{ID: "abc123", NetNS: pod.NetNS})
	if got := testutil.Commands(t, logs[0]); !reflect.DeepEqual(got, []string{"ADD", "DEL"}) {
		t.Fatalf("commands = %v", got)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after teardown = %v", got)
	}
}

func TestSetUpPodRequestedNetworksReserveExplicitIfnamesFirst(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b", "c")
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{
		{Name: "c"}, {Name: "a", Ifname: "eth0"}, {Name: "b"},
	}}
	res, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	want := []NetAttachment{{Name: "c", Ifname: "eth1"}, {Name: "a", Ifname: "eth0"}, {Name: "b", Ifname: "eth2"}}
	var got []NetAttachment
	for _, r := range res {
		got = append(got, r.NetAttachment)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("results = %+v, want %+v", got, want)
	}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, []string{"ADD c c1 eth1", "ADD a c1 eth0", "ADD b c1 eth2"}) {
		t.Fatalf("plugin calls = %v", ev)
	}
}

func TestSetUpPodRefusesBadRequestsBeforeAnyPlugin(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNets(log, "a", "b")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	cases := []struct {
		name string
		pod  PodNetwork
		want error
	}{
		{"duplicate ifname", PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "a", Ifname: "net1"}, {Name: "b", Ifname: "net1"}}}, ErrInvalidPodNetwork},
		{"bad ifname", PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "a", Ifname: "a/b"}}}, ErrInvalidPodNetwork},
		{"bad sandbox ID", PodNetwork{ID: "-x", NetNS: ns}, ErrInvalidPodNetwork},
		{"no netns", PodNetwork{ID: "c1"}, ErrInvalidPodNetwork},
		{"netns not a namespace", PodNetwork{ID: "c1", NetNS: e.confDir}, ErrInvalidPodNetwork},
		{"CNI_ARGS smuggling", PodNetwork{ID: "c1", Name: "x;IP=1.2.3.4", NetNS: ns}, ErrInvalidPodNetwork},
		{"unknown network", PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "a"}, {Name: "zz"}}}, ErrNetworkNotFound},
	}
	for _, c := range cases {
		if _, err := p.SetUpPod(c.pod); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	if ev := testutil.Events(t, log); len(ev) != 0 {
		t.Fatalf("plugins ran for refused requests: %v", ev)
	}
}

// richPod returns a PodNetwork using every field with maps and slices, built
// afresh on each call so one copy can be compared with another.
func richPod(ns string) PodNetwork {
	ann := map[string]string{"k": "v"}
	return PodNetwork{
		Name: "web", Namespace: "prod", ID: "c1", UID: "u1", NetNS: ns,
		Networks: []NetAttachment{{Name: "b"}, {Name: "a", Ifname: "eth0"}},
		RuntimeConfig: map[string]RuntimeConfig{
			"a": {
				IP: "10.1.1.1", MAC: "02:00:00:00:00:01",
				PortMappings:   []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "TCP"}, {HostPort: 53, ContainerPort: 53}},
				Bandwidth:      &BandwidthConfig{IngressRate: 1, EgressRate: 2},
				IpRanges:       [][]IpRange{{{Subnet: "10.1.0.0/16"}}},
				CgroupPath:     "/kubepods/x",
				PodAnnotations: &ann,
				IPs:            []string{"10.1.1.1/24"},
				DNS:            &DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"svc"}},
				DeviceID:       "0000:00:01.0",
				InfinibandGUID: "c2:11:22:33:44:55:66:77",
				Aliases:        []string{"web-a"},
			},
		},
		Aliases: map[string][]string{"a": {"x"}, "b": {"y", "z"}},
	}
}

func TestCallerPodNetworkIsNeverModified(t *testing.T) {
	e := newEnv(t)
	all := map[string]any{"capabilities": map[string]bool{
		"portMappings": true, "bandwidth": true, "ipRanges": true, "ips": true, "mac": true, "dns": true, "aliases": true,
	}}
	confA, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")}, "", all)
	e.writeList("10-a.conflist", "a", "1.0.0", nil, confA)
	confB, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.2")}, "", all)
	e.writeList("20-b.conflist", "b", "1.0.0", nil, confB)
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	pod := richPod(ns)
	setUp(t, p, pod)
	if !reflect.DeepEqual(pod, richPod(ns)) {
		t.Fatalf("SetUpPod modified the caller's PodNetwork:\n got %+v\nwant %+v", pod, richPod(ns))
	}
	if _, err := p.GetPodNetworkStatus(pod); err != nil {
		t.Fatal(err)
	}
	tearDown(t, p, pod)
	if !reflect.DeepEqual(pod, richPod(ns)) {
		t.Fatalf("status or teardown modified the caller's PodNetwork:\n got %+v", pod)
	}
}

func TestSetUpPodFailureRollsBackInReverseOrder(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNet("10-n0.conflist", "n0", "1.0.0", "10.0.0.1", log)
	e.noopNet("20-n1.conflist", "n1", "1.0.0", "10.0.0.2", log)
	bad, badPlug := e.noopConf(debug.Debug{ReportError: "no addresses left", ReportErrorCode: 7}, log, nil)
	e.writeList("30-n2.conflist", "n2", "1.0.0", nil, bad)
	e.noopNet("40-n3.conflist", "n3", "1.0.0", "10.0.0.4", log)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{
		{Name: "n0"}, {Name: "n1"}, {Name: "n2"}, {Name: "n3"},
	}}
	res, err := p.SetUpPod(pod)
	if res != nil {
		t.Fatalf("results on failure = %+v", res)
	}
	var ce *cnitypes.Error
	var op *OpError
	if !errors.As(err, &ce) || ce.Code != 7 || ce.Msg != "no addresses left" {
		t.Fatalf("err = %v, want the plugin's *types.Error with code 7", err)
	}
	if !errors.As(err, &op) || op.Op != "add" || op.Network != "n2" || op.Ifname != "eth2" {
		t.Fatalf("err = %#v, want an OpError naming add of n2 on eth2", op)
	}
	want := []string{"ADD n0 c1 eth0", "ADD n1 c1 eth1", "ADD n2 c1 eth2", "DEL n2 c1 eth2", "DEL n1 c1 eth1", "DEL n0 c1 eth0"}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	// n2's plugin failed its rollback DEL too: that DEL is still owed
	// (CNI spec), so it is recorded where teardown will find it.
	if c := e.cacheFiles(); !reflect.DeepEqual(c, []string{"n2-c1-eth2"}) {
		t.Fatalf("cache after rollback = %v, want only the owed DEL of n2", c)
	}
	if _, err := p.GetPodNetworkStatus(PodNetwork{ID: "c1", NetNS: pod.NetNS}); err == nil || !strings.Contains(err.Error(), "owes a DEL") {
		t.Fatalf("status of a pod with an owed DEL = %v, want it to say so", err)
	}
	testutil.SetDebug(t, badPlug.debug, debug.Debug{})
	if err := p.TearDownPod(PodNetwork{ID: "c1", NetNS: pod.NetNS}); err != nil {
		t.Fatalf("teardown retrying the owed DEL: %v", err)
	}
	if ev := testutil.Events(t, log); ev[len(ev)-1] != "DEL n2 c1 eth2" {
		t.Fatalf("last plugin call = %q, want the retried DEL of n2", ev[len(ev)-1])
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after teardown = %v", c)
	}
}

func TestSetUpPodRollsBackWhenCallerCancels(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	marks := e.slowPlugin()
	e.noopNet("10-n0.conflist", "n0", "1.0.0", "10.0.0.1", log)
	first, _ := e.noopConf(debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.2")}, log, nil)
	e.writeList("20-n1.conflist", "n1", "1.0.0", nil, first, map[string]any{"type": "slow"})
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t), Networks: []NetAttachment{{Name: "n0"}, {Name: "n1"}}}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, pod)
		errc <- err
	}()
	testutil.Eventually(t, 20*time.Second, func() bool { return started(marks, "c1") }, "slow ADD of n1 never started")
	cancel()
	err := <-errc
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	want := []string{"ADD n0 c1 eth0", "ADD n1 c1 eth1", "DEL n1 c1 eth1", "DEL n0 c1 eth0"}
	if ev := testutil.Events(t, log); !reflect.DeepEqual(ev, want) {
		t.Fatalf("plugin calls = %v\nwant %v", ev, want)
	}
	if c := e.cacheFiles(); len(c) != 0 {
		t.Fatalf("cache after rollback = %v", c)
	}
}

func TestSetUpPodBringsUpLoopbackInPodNetNS(t *testing.T) {
	e := newEnv(t)
	e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	loUp := func() bool {
		h, err := handleAt(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		lo, err := h.LinkByName("lo")
		if err != nil {
			t.Fatal(err)
		}
		return lo.Attrs().Flags&net.FlagUp != 0
	}
	if loUp() {
		t.Fatal("lo already up in a fresh netns")
	}
	setUp(t, p, PodNetwork{ID: "c1", NetNS: ns})
	if !loUp() {
		t.Fatal("lo is down in the pod netns after setup")
	}
}

// Setting up a pod that is already set up is refused before any plugin
// runs: running ADD again and rolling back its failure would DEL the
// working attachment. After a teardown the same sandbox sets up again.
func TestSetUpPodTwiceIsRefusedAndKeepsTheAttachment(t *testing.T) {
	e := newEnv(t)
	log := e.newLog()
	e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", log)
	p := e.plugin(WithWatch(false))
	pod := PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)}
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatal(err)
	}
	_, err := p.SetUpPod(pod)
	if !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("second setup = %v, want ErrAlreadyAttached", err)
	}
	if got, want := testutil.Events(t, log), []string{"ADD n c1 eth0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin calls = %v, want only the first ADD", got)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-c1-eth0"}) {
		t.Fatalf("cache = %v, want the first attachment kept", got)
	}
	if err := p.TearDownPod(pod); err != nil {
		t.Fatal(err)
	}
	if _, err := p.SetUpPod(pod); err != nil {
		t.Fatalf("setup after teardown: %v", err)
	}
}
