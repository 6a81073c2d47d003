package ocicni

import (
	"errors"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

// With WithIdempotentSetup, a setup identical to the one that attached the
// sandbox returns the recorded results and runs no plugin; anything that
// differs is refused as before, and without the option so is the repeat.
func TestIdempotentSetup(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-a.conflist", "a", "1.0.0", nil, testutil.FaultyPlugin(log, nil, "ip", "10.99.0.2/24"))
	e.writeList("20-b.conflist", "b", "1.0.0", nil, testutil.FaultyPlugin(log, nil, "ip", "10.98.0.2/24"))
	p := e.plugin(WithWatch(false), WithIdempotentSetup(true))
	ns := testutil.NewNetNS(t)
	pod := PodNetwork{ID: "sb1", Name: "web", Namespace: "shop", NetNS: ns,
		Networks:      []NetAttachment{{Name: "a"}},
		RuntimeConfig: map[string]RuntimeConfig{"a": {IP: "10.99.0.2", PortMappings: []PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}}}}
	first, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatal(err)
	}
	// A second network attached by a call of its own, as a DRA driver
	// attaches one claim at a time.
	podB := PodNetwork{ID: "sb1", Name: "web", Namespace: "shop", NetNS: ns, Networks: []NetAttachment{{Name: "b", Ifname: "net1"}}}
	firstB, err := p.SetUpPod(podB)
	if err != nil {
		t.Fatal(err)
	}

	again, err := p.SetUpPod(pod)
	if err != nil {
		t.Fatalf("identical setup = %v, want the recorded results", err)
	}
	if len(again) != 1 || again[0].Name != "a" || again[0].Ifname != "eth0" || firstIP(t, again[0].Result) != firstIP(t, first[0].Result) {
		t.Fatalf("identical setup = %+v, want %+v", again, first)
	}
	againB, err := p.SetUpPod(podB)
	if err != nil || len(againB) != 1 || againB[0].Ifname != "net1" || firstIP(t, againB[0].Result) != firstIP(t, firstB[0].Result) {
		t.Fatalf("identical setup of the second network = %+v, %v; want %+v", againB, err, firstB)
	}
	if got := testutil.FaultyCommands(t, log); !reflect.DeepEqual(got, []string{"ADD", "ADD"}) {
		t.Fatalf("plugin got %v, want the two first ADDs only", got)
	}
	// Both attachments at once, each exactly as recorded: answered too.
	both := pod
	both.Networks = []NetAttachment{{Name: "a"}, {Name: "b", Ifname: "net1"}}
	if res, err := p.SetUpPod(both); err != nil || len(res) != 2 {
		t.Fatalf("setup of both recorded attachments = %+v, %v", res, err)
	}

	differ := map[string]func(*PodNetwork){
		"address": func(q *PodNetwork) {
			q.RuntimeConfig = map[string]RuntimeConfig{"a": {IP: "10.99.0.3", PortMappings: pod.RuntimeConfig["a"].PortMappings}}
		},
		"port mapping": func(q *PodNetwork) {
			q.RuntimeConfig = map[string]RuntimeConfig{"a": {IP: "10.99.0.2", PortMappings: []PortMapping{{HostPort: 8081, ContainerPort: 80, Protocol: "tcp"}}}}
		},
		"netns":    func(q *PodNetwork) { q.NetNS = testutil.NewNetNS(t) },
		"pod name": func(q *PodNetwork) { q.Name = "other" },
		// One network as attached, another not attached at all.
		"networks": func(q *PodNetwork) { q.Networks = []NetAttachment{{Name: "a"}, {Name: "b", Ifname: "net2"}} },
	}
	for name, change := range differ {
		q := pod
		change(&q)
		if _, err := p.SetUpPod(q); !errors.Is(err, ErrAlreadyAttached) {
			t.Errorf("setup differing in %s = %v, want ErrAlreadyAttached", name, err)
		}
	}

	off := e.plugin(WithWatch(false))
	if _, err := off.SetUpPod(pod); !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("identical setup without WithIdempotentSetup = %v, want ErrAlreadyAttached", err)
	}
}

// A sandbox whose setup did not finish (its DEL is owed) is not attached
// as asked: an identical setup is refused, not answered from the record.
func TestIdempotentSetupRefusesOwedAttachment(t *testing.T) {
	e := newFaultEnv(t)
	log := e.logFile("faulty.log")
	e.writeList("10-n.conflist", "n", "1.0.0", nil, testutil.FaultyPlugin(log, map[string]string{"ADD": "error", "DEL": "error"}))
	p := e.plugin(WithWatch(false), WithIdempotentSetup(true))
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	if _, err := p.SetUpPod(pod); err == nil {
		t.Fatal("setup with a failing ADD succeeded")
	}
	if !e.isOwed("n-sb1-eth0") {
		t.Fatalf("no owed entry after a failed rollback; cache = %v", e.cacheFiles())
	}
	if _, err := p.SetUpPod(pod); !errors.Is(err, ErrAlreadyAttached) {
		t.Fatalf("identical setup over an owed entry = %v, want ErrAlreadyAttached", err)
	}
}
