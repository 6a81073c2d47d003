//go:build linux

package chaos

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
)

// stats counts what a run did and holds the violations it found.
type stats struct {
	mu         sync.Mutex // guards the maps and violations
	ops        map[string]int
	faults     map[string]int
	broken     map[string]int // violations per invariant
	known      map[string]int // violations of invariants left out
	violations []string       // the first few of each invariant
	start      time.Time
	stop       atomic.Bool
}

func newStats() *stats {
	return &stats{ops: map[string]int{}, faults: map[string]int{}, broken: map[string]int{}, known: map[string]int{}, start: time.Now()}
}

func (s *stats) op(name string)    { s.mu.Lock(); s.ops[name]++; s.mu.Unlock() }
func (s *stats) fault(name string) { s.mu.Lock(); s.faults[name]++; s.mu.Unlock() }
func (s *stats) halt()             { s.stop.Store(true) }
func (s *stats) halted() bool      { return s.stop.Load() }

func (s *stats) violationCount() int { s.mu.Lock(); defer s.mu.Unlock(); return sumOf(s.broken) }

func sumOf(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func (s *stats) violationText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.violations, "\n")
}

func (s *stats) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	count := func(m map[string]int) (int, string) {
		keys := make([]string, 0, len(m))
		n := 0
		for k, v := range m {
			keys = append(keys, fmt.Sprintf("%s=%d", k, v))
			n += v
		}
		sort.Strings(keys)
		return n, strings.Join(keys, " ")
	}
	nOps, ops := count(s.ops)
	nFaults, faults := count(s.faults)
	nBroken, broken := count(s.broken)
	nKnown, known := count(s.known)
	return fmt.Sprintf("%d operations in %s (%s); %d faults injected (%s); %d violations (%s); %d known, left out (%s)",
		nOps, time.Since(s.start).Round(time.Second), ops, nFaults, faults, nBroken, broken, nKnown, known)
}

// violate records a broken invariant, unless OCICNI_CHAOS_SKIP names it.
// The first five of each invariant are kept word for word; a run stops
// after 200 in all.
func (w *world) violate(invariant, format string, args ...any) {
	if w.k.skip[invariant] {
		w.stats.mu.Lock()
		w.stats.known[invariant]++
		n := w.stats.known[invariant]
		w.stats.mu.Unlock()
		if n == 1 {
			w.t.Logf("known (left out: %s %s): "+format, append([]any{invariant, openIssues[invariant]}, args...)...)
		}
		return
	}
	line := fmt.Sprintf("[%s] +%s %s", invariant, time.Since(w.stats.start).Round(time.Millisecond), fmt.Sprintf(format, args...))
	w.stats.mu.Lock()
	w.stats.broken[invariant]++
	n, all := w.stats.broken[invariant], sumOf(w.stats.broken)
	if n <= 5 {
		w.stats.violations = append(w.stats.violations, line)
	}
	w.stats.mu.Unlock()
	if n <= 5 {
		w.t.Log("VIOLATION " + line)
	}
	if all >= 200 {
		w.stats.halt()
	}
}

// violatePod records a broken invariant about p with p's history.
func (w *world) violatePod(p *pod, invariant, format string, args ...any) {
	w.violate(invariant, format+"\n\thistory of %s:\n\t%s", append(args, p.id, strings.Join(p.history, "\n\t"))...)
}

// checkPod checks, on the kernel, host-local's store, the cache directory
// and the firewall, that p holds what its state says; p is locked.
func (w *world) checkPod(p *pod, invariant, when string) {
	bad := false
	// One broken invariant makes the pod's state unknown, so what follows
	// from it is not reported again.
	defer func() {
		if bad {
			p.state = dirty
		}
	}()
	violate := func(invariant, format string, args ...any) {
		if !bad {
			bad = true
			format += "\n\thistory of %s:\n\t%s"
			args = append(args, p.id, strings.Join(p.history, "\n\t"))
		}
		w.violate(invariant, format, args...)
	}
	if p.nsIntact() {
		got, err := nsContents(p.nsPath)
		switch {
		case err != nil:
			violate(invariant, "%s %s: reading its netns: %v", p.id, when, err)
		case p.state == clean && !onlyLoopback(got):
			violate(invariant, "%s %s: its netns still holds %s", p.id, when, got)
		case p.state == attached && got != p.want:
			violate(invariant, "%s %s: its netns changed from %s to %s\n\tall pods' last operations:\n\t%s", p.id, when, p.want, got, p.journal)
		}
	}
	res := reservations(w.dataDir)
	switch p.state {
	case clean:
		for _, r := range res {
			if r.id == p.id {
				violate(invariant, "%s %s: host-local still reserves %s on %s for it", p.id, when, r.ip, r.network)
			}
		}
		for _, f := range listDir(filepath.Join(w.cacheDir, "results")) {
			if cacheOwner(filepath.Join(w.cacheDir, "results", f)) == p.id {
				violate(invariant, "%s %s: cache entry %s left", p.id, when, f)
			}
		}
		if ruleOf(firewallRules(), p.id) && !(p.damaged && w.k.skip["damaged-record-portmap"]) {
			violate(invariant, "%s %s: portmap rules left", p.id, when)
		}
	case attached:
		for n, ip := range p.ips {
			found := false
			for _, r := range res {
				found = found || r.network == n && r.ip == ip && r.id == p.id
			}
			if !found {
				violate(invariant, "%s %s: host-local no longer reserves its %s on %s", p.id, when, ip, n)
			}
		}
	}
}

// checkGlobal checks what no operation may change: the runtime's own
// namespace, and the runtime's memory.
func (w *world) checkGlobal(after string) {
	l, err := netlink.LinkByName("eth0")
	if err != nil {
		w.violate("runtime-netns-untouched", "after %s: the runtime's eth0 is gone: %v", after, err)
		w.stats.halt()
		return
	}
	addrs, _ := netlink.AddrList(l, netlink.FAMILY_V4)
	if len(addrs) != 1 || addrs[0].IPNet.String() != runtimeAddr {
		w.violate("runtime-netns-untouched", "after %s: the runtime's eth0 has %v, want %s", after, addrs, runtimeAddr)
	}
	links, _ := netlink.LinkList()
	for _, l := range links {
		a := l.Attrs()
		// Bridges and host-side veths belong here; a pod-side link does not.
		if a.Name != "eth0" && a.Name != "lo" && !strings.HasPrefix(a.Name, "chaosbr") && !strings.HasPrefix(a.Name, "veth") {
			w.violate("runtime-netns-untouched", "after %s: a %s %q appeared in the runtime's netns", after, l.Type(), a.Name)
		}
	}
	if base := w.memBase.Load(); peakRSS()-base > memoryBound {
		grown := peakRSS() - base
		// Report a growth once: the peak is a high-water mark.
		if w.memBase.CompareAndSwap(base, base+grown) {
			w.violate("memory", "after %s: the runtime's peak memory grew by %d MiB (bound %d MiB)", after, grown>>20, memoryBound>>20)
		}
	}
}

// checkNothingLeft checks, after the final GC, that no veth hangs on a
// bridge, no address is reserved, the results directory is empty, no
// portmap rule is left and every pod's netns holds only lo.
func (w *world) checkNothingLeft() {
	links, _ := netlink.LinkList()
	for _, l := range links {
		if l.Type() == "veth" {
			w.violate("final-clean", "veth %s left in the runtime's netns", l.Attrs().Name)
		}
	}
	for _, r := range reservations(w.dataDir) {
		for _, p := range w.pods {
			if p.id == r.id {
				w.violatePod(p, "final-clean", "host-local still reserves %s on %s for %s", r.ip, r.network, r.id)
			}
		}
	}
	for _, f := range listDir(filepath.Join(w.cacheDir, "results")) {
		w.violate("final-clean", "cache entry %s left", f)
	}
	rules := firewallRules()
	for _, p := range w.pods {
		if ruleOf(rules, p.id) && !(p.damaged && w.k.skip["damaged-record-portmap"]) {
			w.violatePod(p, "final-clean", "portmap rules of %s left", p.id)
		}
		if p.nsIntact() {
			if got, err := nsContents(p.nsPath); err == nil && !onlyLoopback(got) {
				w.violate("final-clean", "netns of %s still holds %s", p.id, got)
			}
		}
	}
}

// checkFaultyLog reads the faulty plugin's log of calls: a CHECK of an
// interface must never follow its DEL without an ADD in between (CNI
// spec: no CHECK after DEL, even a failed one).
func (w *world) checkFaultyLog() {
	f, err := os.Open(w.faultyLog)
	if err != nil {
		return
	}
	defer f.Close()
	last := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) != 3 {
			continue
		}
		key := fields[1] + " " + fields[2]
		if fields[0] == "CHECK" && last[key] == "DEL" {
			w.violate("no-check-after-del", "CHECK of %s after its DEL with no ADD between", key)
		}
		if fields[0] != "CHECK" {
			last[key] = fields[0]
		}
	}
}

// journal keeps the last operations of all pods, so a violation of
// neighbour-untouched can show what the other pods did meanwhile.
type journal struct {
	mu    sync.Mutex // guards lines
	lines []string
}

func (j *journal) add(line string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.lines) >= 150 {
		j.lines = j.lines[1:]
	}
	j.lines = append(j.lines, line)
}

func (j *journal) String() string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return strings.Join(j.lines, "\n\t")
}
