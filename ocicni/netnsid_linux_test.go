package ocicni

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/internal/testutil"
)

// runtimeNetNSPaths are paths that lead to the runtime's own network
// namespace: the magic link, one through the PID, and a symlink to it.
func runtimeNetNSPaths(t *testing.T) []string {
	link := filepath.Join(t.TempDir(), "ns")
	if err := os.Symlink(runtimeNetNS, link); err != nil {
		t.Fatal(err)
	}
	return []string{runtimeNetNS, fmt.Sprintf("/proc/%d/ns/net", os.Getpid()), link}
}

// The runtime's own network namespace, by any path, is refused by setup
// and ValidatePodNetwork before a plugin runs: the old code accepted it,
// and the plugin then worked on the node's interfaces (issue 17.4). The
// tests run in a throwaway namespace of their own.
func TestSetUpRefusesRuntimeNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	for _, path := range runtimeNetNSPaths(t) {
		pod := PodNetwork{ID: "sb1", NetNS: path}
		if err := ValidatePodNetwork(pod); !errors.Is(err, ErrInvalidPodNetwork) || !errors.Is(err, ErrRuntimeNetNS) {
			t.Errorf("ValidatePodNetwork(%s) = %v, want ErrInvalidPodNetwork and ErrRuntimeNetNS", path, err)
		}
		if _, err := p.SetUpPod(pod); !errors.Is(err, ErrInvalidPodNetwork) || !errors.Is(err, ErrRuntimeNetNS) {
			t.Errorf("SetUpPod(%s) = %v, want ErrInvalidPodNetwork and ErrRuntimeNetNS", path, err)
		}
	}
	if got := testutil.Commands(t, np.log); len(got) != 0 {
		t.Fatalf("plugin saw %v, want nothing", got)
	}
	if err := ValidatePodNetwork(PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}); err != nil {
		t.Fatalf("a pod's own namespace refused: %v", err)
	}
}

// A teardown, and GC, never hand the runtime's own namespace to a plugin:
// not the caller's path when nothing is cached, not a path an entry
// without a recorded identity holds. The DEL runs with an empty netns,
// which releases the address. The old code sent the path on (issue 17.4).
func TestTearDownAndGCNeverSendRuntimeNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	for _, path := range runtimeNetNSPaths(t) {
		tearDown(t, p, PodNetwork{ID: "none", NetNS: path})
	}
	pod := PodNetwork{ID: "sb1", NetNS: testutil.NewNetNS(t)}
	setUp(t, p, pod)
	// An entry as an older version or cri-o/ocicni writes it, recording a
	// path that now leads to the runtime's namespace.
	file := filepath.Join(e.cache, "results", "n-sb1-eth0")
	var entry map[string]any
	data, err := os.ReadFile(file)
	if err == nil {
		err = json.Unmarshal(data, &entry)
	}
	if err != nil {
		t.Fatal(err)
	}
	entry["netns"] = runtimeNetNS
	delete(entry["capabilityArgs"].(map[string]any), attachstore.NetNSKey)
	if err := os.WriteFile(file, []byte(testutil.MustJSON(entry)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.GC(context.Background(), nil); err != nil {
		t.Fatalf("GC: %v", err)
	}
	if got, want := delNetNS(t, np.log), []string{"", "", "", ""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DEL CNI_NETNS = %q, want %q", got, want)
	}
	if got := e.cacheFiles(); len(got) != 0 {
		t.Fatalf("cache after GC = %v", got)
	}
}

// The identity recorded at ADD tells a namespace from a later one at the
// same path, even when the kernel hands the new one the same inode number.
func TestNetNSIdentityTellsReusedPathApart(t *testing.T) {
	path := testutil.NewNetNS(t)
	before := netnsIdentity(path)
	if before == "" || before != netnsIdentity(path) {
		t.Fatalf("identity of %s = %q, then %q; want one stable value", path, before, netnsIdentity(path))
	}
	if own := netnsIdentity(runtimeNetNS); own == before {
		t.Fatalf("the pod's namespace and the runtime's share the identity %q", own)
	}
}

// reuseNetNS sets pod a up in a named netns, runs between (a teardown,
// say), re-creates the name as a new namespace and sets pod b up there. It
// returns the path.
func reuseNetNS(t *testing.T, p *Plugin, between func(path string)) string {
	t.Helper()
	name := fmt.Sprintf("reused%d", os.Getpid())
	path, err := sandbox.CreateNetNS(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandbox.DeleteNetNS(name) })
	setUp(t, p, PodNetwork{ID: "a", NetNS: path})
	between(path)
	if err := sandbox.DeleteNetNS(name); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.CreateNetNS(name); err != nil {
		t.Fatal(err)
	}
	setUp(t, p, PodNetwork{ID: "b", NetNS: path})
	return path
}

// A repeated teardown of pod a, with nothing cached any more, sends its
// DEL of the default network without a netns once the path is pod b's:
// the old code sent the caller's path, and a real plugin would have
// deleted b's eth0 (issue 17.3).
func TestRepeatedTearDownAfterNetNSReusedSendsNoNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	path := reuseNetNS(t, p, func(path string) { tearDown(t, p, PodNetwork{ID: "a", NetNS: path}) })
	tearDown(t, p, PodNetwork{ID: "a", NetNS: path})
	if got, want := delNetNS(t, np.log), []string{path, ""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DEL CNI_NETNS = %q, want %q", got, want)
	}
}

// A damaged entry has lost the identity of its namespace; its DEL still
// does not go to the path once another pod's entry records the namespace
// there (issue 17.3).
func TestDamagedEntryTearDownAfterNetNSReusedSendsNoNetNS(t *testing.T) {
	e := newEnv(t)
	np, p := e.oneNet("1.0.0", "10.0.0.1")
	path := reuseNetNS(t, p, func(string) {
		if err := os.WriteFile(filepath.Join(e.cache, "results", "n-a-eth0"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	})
	tearDown(t, p, PodNetwork{ID: "a", NetNS: path})
	if got, want := delNetNS(t, np.log), []string{""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DEL CNI_NETNS = %q, want %q", got, want)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-b-eth0"}) {
		t.Fatalf("cache = %v, want pod b's entry alone", got)
	}
}
