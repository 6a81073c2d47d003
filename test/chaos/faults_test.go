//go:build linux

package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

// opReload rewrites a configuration file with what it held (in place or
// by rename), or removes c-a-b's file or puts it back.
func (w *world) opReload(rng *rand.Rand) {
	w.confMu.Lock()
	defer w.confMu.Unlock()
	i := rng.IntN(len(netNames))
	path := filepath.Join(w.confDir, confFile(netNames[i]))
	if netNames[i] == "c-a-b" && rng.IntN(2) == 0 {
		w.stats.fault("conf toggle")
		if w.hidden = !w.hidden; w.hidden {
			_ = os.Remove(path)
			return
		}
	} else if w.hidden && netNames[i] == "c-a-b" {
		return
	}
	data, _ := json.Marshal(w.netConf(i))
	inPlace := rng.IntN(2) == 0 && !w.k.skip["rewrite-in-place"]
	w.stats.fault(map[bool]string{true: "conf rewrite in place", false: "conf rewrite by rename"}[inPlace])
	if err := writeFile(path, data, inPlace); err != nil {
		w.t.Log(err)
	}
}

// opRestart starts a new runtime over the same directories; the old one
// finishes the calls it has in flight, then shuts down. Unless
// other-writer is on, no call starts meanwhile, so the two never write the
// cache at once.
func (w *world) opRestart(rng *rand.Rand) {
	next := &runtimeInst{p: w.newPlugin(rng.IntN(2) == 0)}
	w.rtMu.Lock()
	old := w.rt
	if w.k.skip["other-writer"] {
		old.calls.Wait()
	}
	w.rt = next
	w.retired.Add(1)
	w.rtMu.Unlock()
	go func() {
		defer w.retired.Done()
		old.calls.Wait()
		_ = old.p.Shutdown()
	}()
}

// runtimeSpec tells a runtime process (TestChaosRuntime) what to do before
// it is killed.
type runtimeSpec struct {
	Conf, Cache, Bin, Action string
	Pod                      ocicni.PodNetwork
}

// TestChaosRuntime is not a test of its own: it is the runtime process
// that opKill starts and SIGKILLs at a random instant.
func TestChaosRuntime(t *testing.T) {
	payload := testutil.ChildPayload()
	if payload == "" {
		t.Skip("skipped: the runtime process of TestChaos; runs only when it starts it")
	}
	var spec runtimeSpec
	if err := json.Unmarshal([]byte(payload), &spec); err != nil {
		t.Fatal(err)
	}
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	p, err := ocicni.New(ocicni.WithConfDir(spec.Conf), ocicni.WithCacheDir(spec.Cache),
		ocicni.WithBinDirs(spec.Bin), ocicni.WithLogger(quiet), ocicni.WithWatch(false))
	if err != nil {
		t.Fatal(err)
	}
	if spec.Action == "setup" {
		_, err = p.SetUpPodWithContext(context.Background(), spec.Pod)
	} else {
		err = p.TearDownPodWithContext(context.Background(), spec.Pod)
	}
	fmt.Printf("done: %v\n", err)
}

// opKill has a runtime process set a pod up or tear it down, and SIGKILLs
// it, with the plugins it started, at a random instant.
func (w *world) opKill(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	action := "teardown"
	if p.state == clean {
		if err := w.sandbox(p, rng); err != nil {
			return
		}
		action = "setup"
		p.nets = []ocicni.NetAttachment{{Name: "c"}, {Name: "c-a"}}[:1+rng.IntN(2)]
		w.avoidSharedNames(p)
		p.publish()
		w.faults(p, rng, "ADD")
	} else {
		w.faults(p, rng, "DEL")
	}
	payload, _ := json.Marshal(runtimeSpec{Conf: w.confDir, Cache: w.cacheDir, Bin: w.binDir, Action: action, Pod: p.request()})
	cmd := testutil.ChildCommand("TestChaosRuntime", string(payload))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.t.Log(err)
		return
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(time.Duration(50+rng.IntN(1500)) * time.Millisecond):
		w.stats.fault("kill runtime mid-" + action)
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
	if err := killSession(cmd.Process.Pid); err != nil {
		w.violate("deadline", "after killing the runtime: %v", err)
	}
	// The runtime that died is the one that comes back; unless
	// other-writer is on, the in-process one is not left running beside
	// it with what it knew before.
	if w.k.skip["other-writer"] {
		w.opRestart(rng)
	}
	p.note("runtime process's %s on %v: %q", action, names(p.nets), out.String())
	p.state = dirty
	if action == "teardown" && strings.Contains(out.String(), "done: <nil>") {
		p.state, p.damaged, p.ips = clean, false, nil
		w.untaint(p)
		w.checkPod(p, "teardown-leaves-nothing", "after a runtime process's teardown returned nil")
	}
}

// opNetnsDelete deletes a pod's netns behind the runtime's back; its name
// becomes free for another pod's sandbox.
func (w *world) opNetnsDelete(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	if p.nsIntact() {
		w.stats.fault("netns delete")
		w.dropSandbox(p)
	}
}

// opCacheDamage damages a file of the results directory the way a crash,
// a full disk or a stray tool does.
func (w *world) opCacheDamage(rng *rand.Rand) {
	dir := filepath.Join(w.cacheDir, "results")
	files := listDir(dir)
	if len(files) == 0 {
		return
	}
	name := files[rng.IntN(len(files))]
	if w.k.skip["damage-ambiguous"] && readings(name) > 1 {
		return
	}
	path := filepath.Join(dir, name)
	owner := cacheOwner(path)
	var locked []*pod
	defer func() {
		for _, p := range locked {
			p.mu.Unlock()
		}
	}()
	for _, p := range w.pods {
		if p.id == owner || owner == "" && strings.Contains(name, "-"+p.id+"-") {
			if !p.mu.TryLock() {
				return
			}
			locked = append(locked, p)
		}
	}
	kinds := []string{"truncate", "torn", "garble", "fifo", "dir", "sparse"}
	kind := kinds[rng.IntN(len(kinds))]
	if w.k.skip[kind] {
		return
	}
	stray := (kind == "fifo" || kind == "dir") && w.k.skip["odd-file-record"]
	if stray {
		// Beside the records, not in a record's place.
		path = filepath.Join(dir, fmt.Sprintf("c-stray%d-eth0", rng.IntN(100)))
	}
	w.stats.fault("cache " + kind)
	for _, p := range locked {
		if stray {
			break
		}
		p.damaged = true
		w.taint(p)
		p.note("cache file %s damaged: %s", name, kind)
	}
	var data []byte
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && fi.Size() <= 1<<20 {
		data, _ = os.ReadFile(path)
	}
	switch kind {
	case "truncate":
		_ = os.Truncate(path, 0)
	case "torn":
		_ = os.Truncate(path, int64(len(data)/2))
	case "garble":
		for i := range data {
			data[i] = byte(rng.IntN(256))
		}
		_ = os.WriteFile(path, data, 0o600)
	case "fifo":
		_ = os.RemoveAll(path)
		_ = unix.Mkfifo(path, 0o600)
	case "dir":
		_ = os.RemoveAll(path)
		_ = os.Mkdir(path, 0o700)
	case "sparse":
		_ = os.Truncate(path, 256<<20)
	}
}

// taint marks p's netns name as one no other pod may take while
// damaged-record-netns is off: p's record is damaged, so its teardown may
// send that path. untaint clears p's marks once p is clean.
func (w *world) taint(p *pod) {
	w.nsMu.Lock()
	defer w.nsMu.Unlock()
	if p.nsName != "" {
		w.tainted[p.nsName] = p
	}
}

func (w *world) untaint(p *pod) {
	w.nsMu.Lock()
	defer w.nsMu.Unlock()
	for name, o := range w.tainted {
		if o == p {
			delete(w.tainted, name)
		}
	}
}

// opRuntimeNetns hands the runtime's own netns to the library as a pod's:
// a setup must refuse it, a teardown must not act in it.
func (w *world) opRuntimeNetns(rng *rand.Rand) {
	if w.k.skip["runtime-netns"] {
		return
	}
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	req := p.request()
	req.NetNS = []string{"/proc/self/ns/net", w.hostAlias}[rng.IntN(2)]
	rt, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), quietDeadline)
	defer cancel()
	_ = os.Remove(filepath.Join(w.faultDir, p.id+".ADD"))
	_ = os.Remove(filepath.Join(w.faultDir, p.id+".DEL"))
	if p.state == clean {
		w.stats.fault("setup in the runtime's netns")
		err, ok := w.call("setup of "+p.id+" in the runtime's netns", quietDeadline, func() error {
			_, err := rt.SetUpPodWithContext(ctx, req)
			return err
		})
		p.note("setup in the runtime's netns %s: %v", req.NetNS, err)
		switch {
		case !ok:
		case err == nil:
			w.violate("runtime-netns-refused", "setup of %s in the runtime's netns %s succeeded", p.id, req.NetNS)
			p.state = dirty
		case !errors.Is(err, ocicni.ErrInvalidPodNetwork):
			// A plugin ran in the runtime's netns; what it left is for
			// a teardown to find.
			w.violate("runtime-netns-refused", "setup of %s in the runtime's netns %s reached a plugin: %v", p.id, req.NetNS, err)
			p.state = dirty
		}
		return
	}
	w.stats.fault("teardown naming the runtime's netns")
	err, ok := w.call("teardown of "+p.id+" naming the runtime's netns", quietDeadline, func() error {
		return rt.TearDownPodWithContext(ctx, req)
	})
	if !ok {
		return
	}
	p.note("teardown naming the runtime's netns %s: %v", req.NetNS, err)
	wasDamaged := p.damaged
	p.state = dirty
	// With its record damaged, the namespace the pod was set up in is
	// known only from the caller, who named the runtime's: its interface
	// stays in its own netns, which goes with the sandbox.
	if err == nil && !wasDamaged {
		p.state, p.damaged, p.ips = clean, false, nil
		w.untaint(p)
		w.checkPod(p, "teardown-leaves-nothing", "after a teardown naming the runtime's netns returned nil")
	}
}

// opFlood sets a pod up with a plugin that writes 100 MB to stdout and to
// stderr; the runtime's memory must stay bounded.
func (w *world) opFlood(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	w.stats.fault("ADD flood")
	w.setup(p, rng, "flood:100000000")
}
