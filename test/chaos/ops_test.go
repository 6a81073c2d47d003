//go:build linux

package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// podState is what the tester knows of a pod from the kernel's and
// host-local's point of view.
type podState int

const (
	clean    podState = iota // nothing attached
	attached                 // set up; want and ips describe it
	dirty                    // unknown: a call failed or its runtime died; owes a teardown
)

// pod is one sandbox of the run. mu is held for the length of every
// operation on the pod, so its kernel state changes only under it; view
// is what GC lists for it while another operation holds mu.
type pod struct {
	mu      sync.Mutex
	idx     int
	id      string
	nsName  string // the named netns of its sandbox, "" when none
	nsPath  string
	nsGone  bool // its netns was deleted; the path may lead to another pod's since
	state   podState
	nets    []ocicni.NetAttachment // what the last setup asked for
	ips     map[string]string      // network -> address, when attached
	want    string                 // its netns as last seen, when attached
	damaged bool                   // a cache file of it was damaged since its last clean teardown
	view    atomic.Pointer[ocicni.PodNetwork]
	history []string // its last operations, for a violation's report
	journal *journal // every pod's operations, for a neighbour's report
}

// note adds a line to p's history; p is locked.
func (p *pod) note(format string, args ...any) {
	if len(p.history) >= 8 {
		p.history = p.history[1:]
	}
	line := time.Now().Format("15:04:05.000 ") + fmt.Sprintf(format, args...)
	p.history = append(p.history, line)
	p.journal.add(p.id + ": " + line)
}

// request is the pod as a runtime describes it.
func (p *pod) request() ocicni.PodNetwork {
	return ocicni.PodNetwork{
		Name: "pod-" + p.id, Namespace: "chaos", UID: "uid-" + p.id, ID: p.id,
		NetNS: p.nsPath, Networks: slices.Clone(p.nets), RuntimeConfig: p.portMappings(),
	}
}

func (p *pod) portMappings() map[string]ocicni.RuntimeConfig {
	rc := map[string]ocicni.RuntimeConfig{}
	for i, n := range netNames {
		rc[n] = ocicni.RuntimeConfig{PortMappings: []ocicni.PortMapping{{HostPort: int32(30000 + 10*p.idx + i), ContainerPort: 80}}}
	}
	return rc
}

func (p *pod) publish() { r := p.request(); p.view.Store(&r) }

// nsIntact reports whether the pod's netns path still leads to the
// namespace made for it. The tester knows, since only it makes and deletes
// namespaces: an inode number would not tell (nsfs reuses them at once).
func (p *pod) nsIntact() bool { return p.nsName != "" && !p.nsGone }

// lockAny locks a pod no other operation holds, or returns nil.
func (w *world) lockAny(rng *rand.Rand) *pod {
	for range 5 {
		p := w.pods[rng.IntN(len(w.pods))]
		if p.mu.TryLock() {
			return p
		}
	}
	return nil
}

// sandbox gives p a fresh netns at a free name of a small pool, so names
// are reused by other pods.
func (w *world) sandbox(p *pod, rng *rand.Rand) error {
	if p.nsIntact() {
		return nil
	}
	w.nsMu.Lock()
	defer w.nsMu.Unlock()
	for _, i := range rng.Perm(len(w.pods) + 2) {
		name := fmt.Sprintf("chaos-ns%d", i)
		if w.k.skip["netns-reuse"] {
			name = fmt.Sprintf("chaos-ns%d-%d", i, w.nsSerial.Add(1))
		}
		if o := w.nsOwner[name]; o != nil && o.nsName == name && !o.nsGone {
			continue
		}
		if w.k.skip["damaged-record-netns"] && w.tainted[name] != nil {
			continue
		}
		path, err := sandbox.CreateNetNS(name)
		if err != nil {
			return fmt.Errorf("creating netns %s: %w", name, err)
		}
		w.nsOwner[name] = p
		p.nsName, p.nsPath, p.nsGone = name, path, false
		p.note("new sandbox %s", path)
		p.want, _ = nsContents(path)
		return nil
	}
	return errors.New("no free netns name")
}

// faults chooses what the faulty plugin does for p's next call of cmd and
// reports whether that is benign (a result still comes, in time).
func (w *world) faults(p *pod, rng *rand.Rand, cmd string) bool {
	path := filepath.Join(w.faultDir, p.id+"."+cmd)
	kinds := map[string][]string{
		"ADD":   {"error", "hang", "slow:300ms", "leave-child:15s", "garbage", "signal", "slow:16s"},
		"DEL":   {"error", "hang", "slow:300ms", "leave-child:15s", "signal"},
		"CHECK": {"error", "hang", "leave-child:15s"},
	}[cmd]
	if rng.IntN(100) >= 25 {
		_ = os.Remove(path)
		return true
	}
	f := kinds[rng.IntN(len(kinds))]
	if f == "slow:16s" && rng.IntN(4) != 0 {
		f = "slow:300ms"
	}
	kind, _, _ := strings.Cut(f, ":")
	if f == "slow:16s" {
		kind = "slow-long"
	}
	if w.k.skip[kind] {
		_ = os.Remove(path)
		return true
	}
	w.stats.fault(cmd + " " + kind)
	benign := f == "slow:300ms" || kind == "leave-child"
	if rng.IntN(2) == 0 {
		f += "@" + netNames[rng.IntN(len(netNames))]
	}
	_ = os.WriteFile(path, []byte(f), 0o644)
	return benign
}

// deadline is quietDeadline for a call that should succeed, else a short
// random one, so hung plugins are cut off by the caller's context.
func deadline(rng *rand.Rand, benign bool) time.Duration {
	if benign {
		return quietDeadline
	}
	return time.Second + time.Duration(rng.IntN(3000))*time.Millisecond
}

func (w *world) opSetup(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	if p.state != clean {
		w.teardown(p, rng)
		return
	}
	w.setup(p, rng, "")
}

// setup sets p up on a random choice of networks; fault, when set, is the
// ADD fault to use instead of a random one.
func (w *world) setup(p *pod, rng *rand.Rand, fault string) {
	if err := w.sandbox(p, rng); err != nil {
		w.t.Log(err)
		return
	}
	p.nets = nil
	if rng.IntN(4) != 0 {
		for _, i := range rng.Perm(len(netNames))[:1+rng.IntN(len(netNames))] {
			p.nets = append(p.nets, ocicni.NetAttachment{Name: netNames[i]})
		}
	}
	w.confMu.Lock()
	if w.hidden {
		p.nets = slices.DeleteFunc(p.nets, func(n ocicni.NetAttachment) bool { return n.Name == "c-a-b" })
	}
	w.confMu.Unlock()
	w.avoidSharedNames(p)
	// c-a-b's file comes and goes, so a setup naming it may fail for want
	// of it.
	stable := !slices.Contains(p.nets, ocicni.NetAttachment{Name: "c-a-b"})
	p.publish()
	benign := w.faults(p, rng, "ADD")
	delBenign := w.faults(p, rng, "DEL")
	if fault != "" {
		_ = os.WriteFile(filepath.Join(w.faultDir, p.id+".ADD"), []byte(fault), 0o644)
		benign = false
	}
	d := deadline(rng, benign)
	// A long slow ADD gets the time to finish: it is what GC must not
	// make other pods wait for.
	if slow, _ := os.ReadFile(filepath.Join(w.faultDir, p.id+".ADD")); strings.HasPrefix(string(slow), "slow:16s") {
		benign, d = false, 2*quietDeadline
	}
	rt, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var res []ocicni.NetResult
	req := p.request()
	err, ok := w.callSlack("setup of "+p.id, d, pluginTimeout, func() (err error) {
		res, err = rt.SetUpPodWithContext(ctx, req)
		return err
	})
	if !ok {
		return
	}
	fa, _ := os.ReadFile(filepath.Join(w.faultDir, p.id+".ADD"))
	fd, _ := os.ReadFile(filepath.Join(w.faultDir, p.id+".DEL"))
	p.note("setup on %v in %s (ADD fault %q, DEL fault %q, deadline %s): %v", names(p.nets), p.nsPath, fa, fd, d, err)
	if err != nil {
		if benign && delBenign && stable && !((errors.Is(err, ocicni.ErrAlreadyAttached) || errors.Is(err, ocicni.ErrCacheNameTaken)) && collides(p)) {
			w.violatePod(p, "fault-free-succeeds", "setup of %s on %v with no fault failed: %v", p.id, names(p.nets), err)
		}
		p.state = dirty
		if delBenign && ctx.Err() == nil && !p.damaged {
			p.state = clean
			w.checkPod(p, "failed-setup-leaves-nothing", "after a failed setup ("+err.Error()+")")
		}
		return
	}
	p.state, p.ips = attached, map[string]string{}
	for _, r := range res {
		if cr, err := current.NewResultFromResult(r.Result); err == nil {
			for _, ip := range cr.IPs {
				p.ips[r.Name] = ip.Address.IP.String()
			}
		}
	}
	p.want, _ = nsContents(p.nsPath)
	for n, ip := range p.ips {
		if !strings.Contains(p.want, ip+"/") {
			w.violatePod(p, "setup-attaches", "setup of %s on %s returned %s, the netns shows %s", p.id, n, ip, p.want)
		}
	}
	w.checkPod(p, "neighbour-untouched", "after its setup")
}

// avoidSharedNames keeps p off the networks on which its cache file name
// is another sandbox's too, unless colliding-names is on.
func (w *world) avoidSharedNames(p *pod) {
	if !w.k.skip["colliding-names"] {
		return
	}
	p.nets = slices.DeleteFunc(p.nets, func(n ocicni.NetAttachment) bool { return shareName(p.id, n.Name) })
	if len(p.nets) == 0 && shareName(p.id, netNames[0]) {
		p.nets = []ocicni.NetAttachment{{Name: "c-a"}}
	}
}

func (w *world) opTeardown(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	w.teardown(p, rng)
}

// teardown tears p down as a runtime does on StopPodSandbox: the netns
// path it knows (which may since have gone, or been reused by another
// pod), or none; the networks it set up, or none.
func (w *world) teardown(p *pod, rng *rand.Rand) {
	req := p.request()
	if rng.IntN(2) == 0 {
		req.Networks = nil
	}
	if !p.nsIntact() && (rng.IntN(3) == 0 || p.state == clean && w.k.skip["repeat-teardown-netns"]) {
		req.NetNS = ""
	}
	benign := w.faults(p, rng, "DEL") && !p.damaged
	d := deadline(rng, benign)
	rt, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	err, ok := w.call("teardown of "+p.id, d, func() error { return rt.TearDownPodWithContext(ctx, req) })
	if !ok {
		return
	}
	fd, _ := os.ReadFile(filepath.Join(w.faultDir, p.id+".DEL"))
	p.note("teardown on %v in %q (DEL fault %q): %v", names(req.Networks), req.NetNS, fd, err)
	if err != nil {
		if benign {
			w.violatePod(p, "fault-free-succeeds", "teardown of %s (netns %q, networks %v) with no fault failed: %v", p.id, req.NetNS, names(req.Networks), err)
		}
		p.state = dirty
		return
	}
	p.state, p.ips = clean, nil
	w.checkPod(p, "teardown-leaves-nothing", "after its teardown returned nil")
	p.damaged = false
	w.untaint(p)
	if p.nsName != "" && rng.IntN(3) != 0 {
		w.dropSandbox(p)
	}
}

// dropSandbox deletes p's netns, as a runtime does when a sandbox goes.
func (w *world) dropSandbox(p *pod) {
	if p.nsIntact() {
		w.nsMu.Lock()
		_ = sandbox.DeleteNetNS(p.nsName)
		p.nsGone = true
		w.nsMu.Unlock()
		p.note("netns %s deleted", p.nsPath)
	}
	p.want = ""
}

func (w *world) opStatus(rng *rand.Rand) {
	p := w.lockAny(rng)
	if p == nil {
		return
	}
	defer p.mu.Unlock()
	benign := w.faults(p, rng, "CHECK")
	must := benign && p.state == attached && p.nsIntact() && !p.damaged
	d := deadline(rng, benign)
	rt, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var res []ocicni.NetResult
	req := p.request()
	err, ok := w.call("status of "+p.id, d, func() (err error) {
		res, err = rt.GetPodNetworkStatusWithContext(ctx, req)
		return err
	})
	if !ok {
		return
	}
	fc, _ := os.ReadFile(filepath.Join(w.faultDir, p.id+".CHECK"))
	p.note("status (CHECK fault %q): %v", fc, err)
	if err != nil && must {
		w.violate("fault-free-succeeds", "status of attached %s with no fault failed: %v", p.id, err)
	}
	if err == nil && must && len(res) != len(p.ips) {
		w.violate("status-matches", "status of %s reports %d networks, %d attached", p.id, len(res), len(p.ips))
	}
	w.checkPod(p, "neighbour-untouched", "after its status")
}

func (w *world) opValidate(rng *rand.Rand) {
	p := w.pods[rng.IntN(len(w.pods))]
	req := *p.view.Load()
	if req.ID == "" {
		req = ocicni.PodNetwork{ID: p.id, Name: "pod-" + p.id, Namespace: "chaos"}
	}
	req.NetNS = []string{"/proc/self/ns/net", w.hostAlias}[rng.IntN(2)]
	if !w.k.skip["runtime-netns"] && ocicni.ValidatePodNetwork(req) == nil {
		w.violate("runtime-netns-refused", "ValidatePodNetwork accepts the runtime's own netns %s", req.NetNS)
	}
}

func (w *world) opReady(rng *rand.Rand) {
	rt, done := w.runtime()
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), quietDeadline)
	defer cancel()
	err, ok := w.call("readiness", quietDeadline, func() error { return rt.StatusWithContext(ctx) })
	if ok && err != nil {
		w.violate("fault-free-succeeds", "Status with the default network loaded failed: %v", err)
	}
}
