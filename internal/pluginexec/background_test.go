package pluginexec

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/testutil"
)

// A background exec runs the plugin, and the child it starts (an IPAM
// delegate, say), at backgroundNice; a plain exec at the runtime's own.
func TestBackgroundExecRunsPluginGroupNiced(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want int
	}{
		{"background", WithBackground(context.Background()), backgroundNice},
		{"plain", context.Background(), testutil.Niceness(t, os.Getpid())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			plugin := filepath.Join(t.TempDir(), "parent")
			// The child is started only after stdin is read, as a plugin
			// starts its delegate; both wait for dir/go.
			wait := "i=0; while [ ! -e " + dir + "/go ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done"
			script := "#!/bin/sh\ncat >/dev/null\n" +
				"sh -c 'echo $$ > " + dir + "/child.tmp; mv " + dir + "/child.tmp " + dir + "/child; " + wait + "' &\n" +
				"echo $$ > " + dir + "/parent.tmp; mv " + dir + "/parent.tmp " + dir + "/parent\n" + wait + "\nwait\n"
			if err := os.WriteFile(plugin, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				_, err := New(Config{}).ExecPlugin(tc.ctx, plugin, []byte(gatedConf), gatedEnv("DEL"))
				done <- err
			}()
			pids := map[string]int{}
			// Niced, they may start slowly on a loaded machine.
			testutil.Eventually(t, 30*time.Second, func() bool {
				for _, who := range []string{"parent", "child"} {
					data, err := os.ReadFile(filepath.Join(dir, who))
					if err != nil {
						return false
					}
					if pids[who], err = strconv.Atoi(strings.TrimSpace(string(data))); err != nil {
						return false
					}
				}
				return true
			}, "the plugin and its child never both started")
			for who, pid := range pids {
				if got := testutil.Niceness(t, pid); got != tc.want {
					t.Errorf("%s runs at niceness %d, want %d", who, got, tc.want)
				}
			}
			if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}
