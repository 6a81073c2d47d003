//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// soakSpec is what one soak runtime process does: pod cycles from First
// on, each a setup and a teardown of a fresh pod, until it is killed.
type soakSpec struct {
	First int
	Tag   string // distinguishes the netns names of one run
}

// soakRuntime runs pod cycles forever, printing "cycle" after each, and
// ignores the failures the test injects.
func soakRuntime(ctx context.Context, p *ocicni.Plugin, s soakSpec) {
	for i := s.First; ; i++ {
		name := fmt.Sprintf("soak-%s-%d", s.Tag, i)
		path, err := sandbox.CreateNetNS(name)
		if err != nil {
			fmt.Printf("netns: %v\n", err)
			return
		}
		pod := ocicni.PodNetwork{
			Name: name, Namespace: "soak", ID: fmt.Sprintf("soak%s%d", s.Tag, i), NetNS: path,
			RuntimeConfig: map[string]ocicni.RuntimeConfig{"crash": {
				PortMappings: []ocicni.PortMapping{{HostPort: int32(20000 + i%20000), ContainerPort: 80}},
			}},
		}
		if _, err := p.SetUpPodWithContext(ctx, pod); err == nil {
			_ = p.TearDownPodWithContext(ctx, pod)
		}
		fmt.Println("cycle")
	}
}

// soakCycles is how many pod cycles TestSoakKillsAndFaultsLeakNothing runs:
// a short run by default, OCICNI_SOAK_CYCLES for the full one.
func soakCycles(t *testing.T) int {
	if s := os.Getenv("OCICNI_SOAK_CYCLES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("OCICNI_SOAK_CYCLES=%q is not a positive number", s)
		}
		return n
	}
	return 40
}

// soakSeed seeds the soak's faults and kill delays: OCICNI_SOAK_SEED, else
// the clock. Where a kill lands still depends on the scheduler.
func soakSeed(t *testing.T) uint64 {
	if s := os.Getenv("OCICNI_SOAK_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("OCICNI_SOAK_SEED=%q is not a number", s)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestSoakKillsAndFaultsLeakNothing runs pod cycles in runtime processes
// that are SIGKILLed at random instants, while the faulty plugin in the
// chain fails ADDs and DELs at random. Then a new Plugin's GC, with no pod
// valid, must leave nothing: no veth, no reservation, no portmap rule, no
// cache or record file.
func TestSoakKillsAndFaultsLeakNothing(t *testing.T) {
	cycles := soakCycles(t)
	cw := newCrashWorld(t, 2)
	seed := soakSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("soak: %d cycles, seed %d (OCICNI_SOAK_SEED=%d repeats the faults and kill delays)", cycles, seed, seed)
	tag := strconv.Itoa(int(cw.n))
	t.Cleanup(func() { deleteSoakNetNS(t, tag) })

	done, completed, kills, start := 0, 0, 0, time.Now()
	for done < cycles {
		cw.faults(randomFaults(rng))
		runtime, out := startRuntime(t, runtimeSpec{
			Conf: cw.confDir, Cache: cw.cacheDir, Bin: cw.binDir, Action: "soak",
			Soak: soakSpec{First: done, Tag: tag},
		})
		lines := countCycles(out)
		killAt := time.NewTimer(time.Duration(rng.IntN(1500)) * time.Millisecond)
		n, ok := 0, true
	wait:
		for ok {
			select {
			case _, ok = <-lines:
				if ok {
					n++
				}
				if done+n >= cycles {
					break wait
				}
			case <-killAt.C:
				break wait
			}
		}
		killAt.Stop()
		kill(t, runtime)
		kills++
		for range lines {
			n++
		}
		// The cycle in flight when the runtime died is counted as done:
		// its pod is one of the leaks the GC below must clean.
		completed += n
		done += n + 1
	}
	cw.reapPlugins(t)
	cw.faults(nil)
	t.Logf("soak: %d cycles (%d completed, %d cut short by a kill) in %d runtime processes, %s",
		done, completed, done-completed, kills, time.Since(start).Round(time.Millisecond))

	if err := cw.plugin().GC(context.Background(), nil); err != nil {
		t.Fatalf("GC after the soak: %v", err)
	}
	assertClean(t, cw.world, "crash")
	if rules := firewallRules(t); strings.Contains(rules, "soak"+tag) {
		t.Fatalf("portmap rules of soak pods left:\n%s", rules)
	}
}

// randomFaults picks what the faulty plugin does during one runtime's
// life: mostly nothing, sometimes failing ADD or DEL.
func randomFaults(rng *rand.Rand) map[string]string {
	f := map[string]string{}
	if rng.IntN(4) == 0 {
		f["ADD"] = "error"
	}
	if rng.IntN(4) == 0 {
		f["DEL"] = "error"
	}
	return f
}

// countCycles delivers one value per "cycle" line of a soak runtime and
// closes when its output ends.
func countCycles(out io.Reader) <-chan struct{} {
	ch := make(chan struct{})
	go func() {
		defer close(ch)
		s := bufio.NewScanner(out)
		for s.Scan() {
			if s.Text() == "cycle" {
				ch <- struct{}{}
			}
		}
	}()
	return ch
}

// deleteSoakNetNS removes the soak's pod namespaces once the checks ran:
// deleting them earlier would take the veths with them and hide a leak.
func deleteSoakNetNS(t *testing.T, tag string) {
	entries, _ := os.ReadDir("/run/netns")
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "soak-"+tag+"-") {
			if err := sandbox.DeleteNetNS(e.Name()); err != nil && !os.IsNotExist(err) {
				t.Logf("deleting netns %s: %v", e.Name(), err)
			}
		}
	}
}
