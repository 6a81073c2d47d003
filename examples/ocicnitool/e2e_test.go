package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// e2e is the world one end-to-end test runs the binary in: its own conf
// dir, cache dir and host-local data dir, real plugins, and pod network
// namespaces made with `ip netns add` inside the throwaway namespace.
type e2e struct {
	*tool
	confDir, cacheDir, dataDir string
}

func newE2E(t *testing.T) *e2e {
	testutil.RequireRoot(t)
	e := &e2e{confDir: t.TempDir(), cacheDir: t.TempDir(), dataDir: t.TempDir()}
	e.tool = &tool{t: t, path: buildTool(t), env: []string{
		"PATH=" + os.Getenv("PATH"),
		"NETCONFPATH=" + e.confDir,
		"CNI_PATH=" + testutil.PluginDir(t),
	}}
	return e
}

// cache returns the flag that points the tool at the test's result cache.
func (e *e2e) cache() string { return "--cache-dir=" + e.cacheDir }

// netns creates a pod namespace with `ip netns add` and returns its path.
func (e *e2e) netns(name string) string {
	e.t.Helper()
	name = fmt.Sprintf("%s-%d", name, os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		e.t.Fatalf("ip netns add %s: %v\n%s", name, err, out)
	}
	e.t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	return filepath.Join("/run/netns", name)
}

// writeConf writes a configuration file the way operators should: to a
// temporary name the library ignores, then renamed into place.
func (e *e2e) writeConf(dir, file, body string) {
	e.t.Helper()
	tmp := filepath.Join(dir, "."+file+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, file)); err != nil {
		e.t.Fatal(err)
	}
}

// bridgeConf is a bridge + host-local network whose reservations live in
// the test's data dir.
func (e *e2e) bridgeConf(name, bridge, subnet string) string {
	return fmt.Sprintf(`{"cniVersion": "1.0.0", "name": %q, "plugins": [
		{"type": "bridge", "bridge": %q, "isGateway": true,
		 "ipam": {"type": "host-local", "subnet": %q, "dataDir": %q}}]}`, name, bridge, subnet, e.dataDir)
}

// kernelAddrs lists the addresses the kernel has on ifname in the netns
// at path ("" when the interface does not exist).
func kernelAddrs(t *testing.T, nsPath, ifname string) string {
	t.Helper()
	out, err := exec.Command("ip", "-n", filepath.Base(nsPath), "-o", "addr", "show", "dev", ifname).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "does not exist") {
			return ""
		}
		t.Fatalf("ip addr in %s: %v\n%s", nsPath, err, out)
	}
	return string(out)
}

// reserved reports whether host-local holds a reservation for the
// address (CIDR form) of network name.
func (e *e2e) reserved(network, cidr string) bool {
	ip, _, _ := strings.Cut(cidr, "/")
	_, err := os.Stat(filepath.Join(e.dataDir, network, ip))
	return err == nil
}

// addedAddress runs add --json and returns the one address it reports.
func (e *e2e) addedAddress(network, nsPath string, extra ...string) string {
	e.t.Helper()
	r := e.run(append([]string{"add", "--json", e.cache(), network, nsPath}, extra...)...).want(e.t, exitOK)
	var rep podReport
	decodeJSON(e.t, r.stdout, &rep)
	if len(rep.Attachments) != 1 || len(rep.Attachments[0].Addresses) != 1 {
		e.t.Fatalf("add reported %+v, want one attachment with one address", rep)
	}
	return rep.Attachments[0].Addresses[0].Address
}

func TestE2EPodLifecycle(t *testing.T) {
	e := newE2E(t)
	pod1 := e.netns("pod1")

	t.Run("ready is 3 with the reason on an empty conf dir", func(t *testing.T) {
		r := e.run("ready").want(t, exitNotReady)
		if !strings.Contains(r.stdout, "no valid CNI configuration file in "+e.confDir) {
			t.Fatalf("ready does not say why: %s", r.stdout)
		}
		var rep readyReport
		decodeJSON(t, e.run("ready", "--json").want(t, exitNotReady).stdout, &rep)
		if rep.Ready || !strings.Contains(rep.Reason, "no default CNI network") {
			t.Fatalf("ready --json = %+v", rep)
		}
	})

	e.writeConf(e.confDir, "10-e2e.conflist", e.bridgeConf("e2enet", "e2ebr0", "10.77.0.0/24"))
	t.Run("ready is 0 once a conflist is there", func(t *testing.T) {
		r := e.run("ready").want(t, exitOK)
		if !strings.Contains(r.stdout, "ready: default network e2enet") {
			t.Fatalf("ready says %q", r.stdout)
		}
	})

	var addr string
	t.Run("add puts the address in the netns", func(t *testing.T) {
		addr = e.addedAddress("e2enet", pod1)
		if !strings.HasPrefix(addr, "10.77.0.") {
			t.Fatalf("add reported %s, not an address of 10.77.0.0/24", addr)
		}
		if got := kernelAddrs(t, pod1, "eth0"); !strings.Contains(got, "inet "+addr) {
			t.Fatalf("the kernel has no %s on eth0 in %s: %q", addr, pod1, got)
		}
		if !e.reserved("e2enet", addr) {
			t.Fatalf("host-local holds no reservation for %s", addr)
		}
	})

	t.Run("add again is refused", func(t *testing.T) {
		r := e.run("add", e.cache(), "e2enet", pod1).want(t, exitFailed)
		if !strings.Contains(r.stderr, "already attached") {
			t.Fatalf("second add does not say it is attached: %s", r.stderr)
		}
	})

	t.Run("status shows the address", func(t *testing.T) {
		r := e.run("status", e.cache(), "e2enet", pod1).want(t, exitOK)
		if !strings.Contains(r.stdout, addr) || !strings.Contains(r.stdout, "e2enet") {
			t.Fatalf("status does not show %s on e2enet:\n%s", addr, r.stdout)
		}
		var rep podReport
		decodeJSON(t, e.run("status", "--json", e.cache(), "e2enet", pod1).want(t, exitOK).stdout, &rep)
		if len(rep.Attachments) != 1 || rep.Attachments[0].Addresses[0].Address != addr || rep.Attachments[0].MAC == "" {
			t.Fatalf("status --json = %+v", rep)
		}
	})

	t.Run("check passes", func(t *testing.T) {
		r := e.run("check", e.cache(), "e2enet", pod1).want(t, exitOK)
		if !strings.Contains(r.stdout, "passed") {
			t.Fatalf("check does not say CHECK passed:\n%s", r.stdout)
		}
	})

	t.Run("check fails when the interface is gone", func(t *testing.T) {
		pod3 := e.netns("pod3")
		e.addedAddress("e2enet", pod3)
		if out, err := exec.Command("ip", "-n", filepath.Base(pod3), "link", "del", "eth0").CombinedOutput(); err != nil {
			t.Fatalf("ip link del: %v\n%s", err, out)
		}
		r := e.run("check", e.cache(), "e2enet", pod3).want(t, exitFailed)
		if !strings.Contains(r.stderr, "CNI error code") {
			t.Fatalf("failed check does not print the plugin's code:\n%s", r.stderr)
		}
		e.run("del", e.cache(), "e2enet", pod3).want(t, exitOK)
	})

	t.Run("a failing plugin prints its CNI code and message", func(t *testing.T) {
		e.writeConf(e.confDir, "20-faulty.conflist", `{"cniVersion": "1.0.0", "name": "faultnet", "plugins": [
			{"type": "faulty", "faults": {"ADD": "error"}, "errorCode": 7, "errorMsg": "boom from e2e"}]}`)
		r := e.run("add", e.cache(), "--ifname", "net1", "faultnet", pod1).want(t, exitFailed)
		if !strings.Contains(r.stderr, "CNI error code 7 (invalid network config): boom from e2e") {
			t.Fatalf("stderr does not carry the plugin's code and message:\n%s", r.stderr)
		}
		var rep errorReport
		decodeJSON(t, e.run("add", "--json", e.cache(), "--ifname", "net1", "faultnet", pod1).want(t, exitFailed).stdout, &rep)
		if rep.Code == nil || *rep.Code != 7 || rep.Msg != "boom from e2e" || rep.Network != "faultnet" || rep.ExitCode != exitFailed {
			t.Fatalf("add --json error = %+v", rep)
		}
		if got := kernelAddrs(t, pod1, "net1"); got != "" {
			t.Fatalf("the failed add left net1 behind: %q", got)
		}
	})

	t.Run("list shows networks, the default and skipped files", func(t *testing.T) {
		e.writeConf(e.confDir, "30-broken.conflist", `{"cniVersion": "1.0.0", "name": `)
		e.writeConf(e.confDir, "31-missing.conflist", `{"cniVersion": "1.0.0", "name": "missing", "plugins": [{"type": "no-such-plugin"}]}`)
		r := e.run("list").want(t, exitOK)
		for _, want := range []string{"e2enet", "faultnet", "bridge", "faulty", "30-broken.conflist", "31-missing.conflist", "no-such-plugin"} {
			if !strings.Contains(r.stdout, want) {
				t.Fatalf("list does not show %q:\n%s", want, r.stdout)
			}
		}
		var rep listReport
		decodeJSON(t, e.run("list", "--json").want(t, exitOK).stdout, &rep)
		if rep.Default != "e2enet" || len(rep.Networks) != 2 || !rep.Networks[0].Default || len(rep.Skipped) != 2 {
			t.Fatalf("list --json = %+v", rep)
		}
		for _, s := range rep.Skipped {
			if s.Reason == "" {
				t.Fatalf("skipped %s without a reason", s.File)
			}
		}
	})

	t.Run("gc collects a sandbox not listed", func(t *testing.T) {
		pod2 := e.netns("pod2")
		addr2 := e.addedAddress("e2enet", pod2)
		e.run("gc", e.cache()).want(t, exitUsage)
		var rep gcReport
		decodeJSON(t, e.run("gc", "--json", e.cache(), pod1).want(t, exitOK).stdout, &rep)
		states := map[string]string{}
		for _, a := range rep.Attachments {
			states[a.Sandbox] = a.State
		}
		id1, id2 := cnitoolContainerID(pod1), cnitoolContainerID(pod2)
		if states[id1] != "kept" || states[id2] != "collected" {
			t.Fatalf("gc states = %v, want %s kept and %s collected", states, id1, id2)
		}
		if got := kernelAddrs(t, pod2, "eth0"); got != "" {
			t.Fatalf("gc left eth0 in %s: %q", pod2, got)
		}
		if e.reserved("e2enet", addr2) || !e.reserved("e2enet", addr) {
			t.Fatalf("after gc, reservations of %s (collected) and %s (kept) are wrong", addr2, addr)
		}
	})

	t.Run("del removes the address and the reservation", func(t *testing.T) {
		r := e.run("del", e.cache(), "e2enet", pod1).want(t, exitOK)
		if !strings.Contains(r.stdout, "deleted network e2enet") {
			t.Fatalf("del says %q", r.stdout)
		}
		if got := kernelAddrs(t, pod1, "eth0"); got != "" {
			t.Fatalf("eth0 still in %s after del: %q", pod1, got)
		}
		if e.reserved("e2enet", addr) {
			t.Fatalf("host-local still reserves %s after del", addr)
		}
		e.run("del", e.cache(), "e2enet", pod1).want(t, exitOK)
	})
}

func TestE2EReadyReportsPluginStatus(t *testing.T) {
	e := newE2E(t)
	debug := filepath.Join(t.TempDir(), "debug.json")
	if err := os.WriteFile(debug, []byte(`{"ReportError": "network provider not started", "ReportErrorCode": 50}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e.writeConf(e.confDir, "10-noop.conflist", fmt.Sprintf(`{"cniVersion": "1.1.0", "name": "noopnet", "plugins": [{"type": "noop", "debugFile": %q}]}`, debug))
	r := e.run("ready", "--wait", "--timeout", "1500ms").want(t, exitNotReady)
	if !strings.Contains(r.stdout, "plugin STATUS") || !strings.Contains(r.stdout, "network provider not started") {
		t.Fatalf("ready does not give the STATUS verdict:\n%s", r.stdout)
	}
}

func TestE2EReadyWaitReturnsOnceReady(t *testing.T) {
	e := newE2E(t)
	cmd, lines := e.start("ready", "--wait", "--timeout", "2m")
	e.writeConf(e.confDir, "10-noop.conflist", `{"cniVersion": "1.0.0", "name": "late", "plugins": [{"type": "noop"}]}`)
	waitLine(t, lines, "ready: default network late", 30*time.Second)
	exitsZero(t, cmd, lines)
}

func TestE2EWatchPrintsChanges(t *testing.T) {
	e := newE2E(t)
	e.writeConf(e.confDir, "10-first.conflist", `{"cniVersion": "1.0.0", "name": "first", "plugins": [{"type": "noop"}]}`)

	cmd, lines := e.start("watch", "--timeout", "2m")
	waitLine(t, lines, "watching "+e.confDir+": 1 networks", 30*time.Second)
	e.writeConf(e.confDir, "05-late.conflist", `{"cniVersion": "1.0.0", "name": "late", "plugins": [{"type": "noop"}]}`)
	waitLine(t, lines, "added network late", 30*time.Second)
	waitLine(t, lines, "default network is now late", 30*time.Second)
	e.writeConf(e.confDir, "20-bad.conflist", `not json`)
	waitLine(t, lines, "skipped "+filepath.Join(e.confDir, "20-bad.conflist"), 30*time.Second)
	exitsZeroOn(t, cmd, lines, syscall.SIGTERM)

	cmd, lines = e.start("watch", "--json", "--timeout", "2m")
	var first change
	decodeJSON(t, waitLine(t, lines, `"event":"watching"`, 30*time.Second), &first)
	if first.Default != "late" || first.Networks == nil || *first.Networks != 2 {
		t.Fatalf("first watch line = %+v", first)
	}
	if err := os.Remove(filepath.Join(e.confDir, "05-late.conflist")); err != nil {
		t.Fatal(err)
	}
	var removed change
	decodeJSON(t, waitLine(t, lines, `"event":"removed"`, 30*time.Second), &removed)
	if removed.Network == nil || removed.Network.Name != "late" || removed.Default != "first" {
		t.Fatalf("removal line = %+v", removed)
	}
	exitsZeroOn(t, cmd, lines, syscall.SIGINT)
}

// exitsZeroOn signals the process and waits, bounded, for it to exit 0.
func exitsZeroOn(t *testing.T, cmd *exec.Cmd, lines <-chan string, sig syscall.Signal) {
	t.Helper()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	exitsZero(t, cmd, lines)
}

// exitsZero waits, bounded, for the process to exit 0, draining its output.
func exitsZero(t *testing.T, cmd *exec.Cmd, lines <-chan string) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for range lines {
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: %v, want exit 0", cmd, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s still running after 30s", cmd)
	}
}

// TestE2EUsageExitCode checks that usage errors exit 2 from the real
// binary, and that the unknown verb is named.
func TestE2EUsageExitCode(t *testing.T) {
	e := newE2E(t)
	r := e.run("frobnicate").want(t, exitUsage)
	if !strings.Contains(r.stderr, `unknown verb "frobnicate"`) {
		t.Fatalf("stderr: %s", r.stderr)
	}
	e.run("add", "--no-such-flag", "n", "/run/netns/x").want(t, exitUsage)
	e.run("add", "onlyone").want(t, exitUsage)
	var rep json.RawMessage
	decodeJSON(t, e.run("list", "--json").want(t, exitOK).stdout, &rep)
}
