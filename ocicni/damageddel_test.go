package ocicni

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/attachstore"
	"github.com/netplumb/ocicni/internal/testutil"
)

// While the DEL of a damaged cache entry runs, the attachment is still
// recorded on disk (as owed, for the netns it goes to), so a runtime
// killed during that DEL leaves a record a later teardown or GC retries.
// libcni drops an entry it cannot read before it runs the plugins; the
// record used to go with it, and a runtime killed then leaked the pod's
// interface and address for good (test/chaos seed 5001: a-b's damaged
// c-a-b-eth1, its teardown's runtime killed, every later teardown and GC
// returned nil with eth1 and its address left).
func TestDamagedEntryStaysRecordedDuringItsDEL(t *testing.T) {
	for _, c := range corruptions {
		t.Run(c.name, func(t *testing.T) {
			e := newFaultEnv(t)
			seen := filepath.Join(t.TempDir(), "seen")
			entry := filepath.Join(e.cache, "results", "net1-sb1-eth0")
			// The observer copies the entry as it stands while its DEL runs.
			script := fmt.Sprintf(`#!/bin/sh
case "$CNI_COMMAND" in
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}' ;;
ADD) echo '{"cniVersion":"1.0.0"}' ;;
DEL) cp %q %q 2>/dev/null || : ;;
esac
`, entry, seen)
			if err := os.WriteFile(filepath.Join(e.binDir, "observer"), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			first, np := e.noopConf(debug.Debug{ReportResult: noopResult("10.1.0.5")}, "", nil)
			e.writeList("10-net.conflist", "net1", "1.0.0", nil, first, map[string]any{"type": "observer"})
			p := e.plugin()
			pod := webPod(t, "sb1")
			setUp(t, p, pod)
			if err := os.WriteFile(entry, []byte(c.data), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := p.TearDownPod(PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
				t.Fatalf("teardown: %v", err)
			}
			data, err := os.ReadFile(seen)
			if err != nil {
				t.Fatalf("no record of the attachment while its DEL ran: %v", err)
			}
			var rec struct {
				ContainerID    string         `json:"containerId"`
				NetworkName    string         `json:"networkName"`
				IfName         string         `json:"ifName"`
				NetNS          string         `json:"netns"`
				CapabilityArgs map[string]any `json:"capabilityArgs"`
			}
			if err := json.Unmarshal(data, &rec); err != nil {
				t.Fatalf("record during the DEL unreadable (%v): %q", err, data)
			}
			if rec.ContainerID != "sb1" || rec.NetworkName != "net1" || rec.IfName != "eth0" || rec.NetNS != pod.NetNS {
				t.Fatalf("record during the DEL = %+v", rec)
			}
			if rec.CapabilityArgs["io.github.netplumb.ocicni/pending-del"] != true || rec.CapabilityArgs[attachstore.NetNSKey] != netnsIdentity(pod.NetNS) {
				t.Fatalf("record during the DEL not owed for the pod's netns: %v", rec.CapabilityArgs)
			}
			if got := testutil.Commands(t, np.log); len(got) != 2 || got[1] != "DEL" {
				t.Fatalf("plugin calls = %v, want ADD, DEL", got)
			}
			if got := e.cacheFiles(); len(got) != 0 {
				t.Fatalf("cache after the teardown = %v", got)
			}
		})
	}
}
