// Command peers times this library against containerd/go-cni and raw
// libcni in one process, on the same configuration files, plugins and
// fresh network namespaces, and prints a Markdown table of medians, 90th
// percentiles and time ratios to raw libcni.
//
// Rounds are interleaved: each round runs every workload once for every
// implementation, in an order rotated by one each round, so a burst of
// load on the machine hits all of them alike. A warm-up round (which
// creates the bridges) comes first and is not counted. After every round
// each implementation must have left no IPAM reservation, result cache
// entry or host-side veth behind, or the run fails.
//
// It needs root: it re-executes itself under `unshare --net --mount` with
// a private tmpfs on /run/netns and a fresh directory on the machine's disk
// bind-mounted on /var/lib/cni (removed at the end), so every link and
// namespace it makes dies with it and no file outlives the run.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/netplumb/ocicni/internal/sandbox"
)

const (
	sandboxEnv = "OCICNI_PEERS_SANDBOX"
	// roundTimeout bounds one round of one workload for one column.
	roundTimeout = 2 * time.Minute
)

func main() {
	rounds := flag.Int("rounds", 30, "measured rounds (after one warm-up round)")
	pods := flag.Int("pods", 60, "pods set up at once in the batch workload")
	only := flag.String("workloads", "", "comma-separated workloads to run (one, three, batch, watch); all when empty")
	pluginDir := flag.String("plugin-dir", defaultPluginDir(), "directory of the CNI plugins (bridge, host-local, portmap)")
	flag.Parse()
	if *rounds < 1 || *pods < 2 {
		fmt.Fprintln(os.Stderr, "peers: -rounds must be at least 1 and -pods at least 2")
		os.Exit(2)
	}
	dir, err := filepath.Abs(*pluginDir)
	if err == nil {
		err = checkPlugins(dir)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(2)
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "peers: needs root to create network namespaces")
		os.Exit(2)
	}
	if !sandbox.Inside(sandboxEnv) {
		code, err := sandbox.Reexec(sandboxEnv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "peers:", err)
			os.Exit(2)
		}
		os.Exit(code)
	}
	if err := run(dir, *rounds, *pods, *only, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// defaultPluginDir is OCICNI_PLUGIN_DIR, or bin/plugins of the repository
// when run from test/peers.
func defaultPluginDir() string {
	if d := os.Getenv("OCICNI_PLUGIN_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "bin", "plugins")
}

func checkPlugins(dir string) error {
	for _, p := range []string{"bridge", "host-local", "portmap"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("plugin %s missing from %s (run `make plugins` at the repository root): %w", p, dir, err)
		}
	}
	return nil
}

// run measures inside the sandbox and prints the table to out, progress
// to log.
func run(pluginDir string, rounds, pods int, only string, out, log io.Writer) (err error) {
	if err := sandbox.MountTmpfs("64m", "/run/netns"); err != nil {
		return err
	}
	// /var/lib/cni is on a real node's disk, and so it is here: a fresh
	// directory on the machine's disk, so durable writes cost what they
	// cost there.
	state, err := os.MkdirTemp("", "ocicni-peers-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(state)
	if err := sandbox.BindDir(state, "/var/lib/cni"); err != nil {
		return err
	}
	if err := sandbox.LoopbackUp(); err != nil {
		return err
	}
	w, err := newWorld(pluginDir)
	if err != nil {
		return err
	}
	cols := columns()
	loads, err := workloads(w, pods)
	if err != nil {
		return err
	}
	if loads, err = selectWorkloads(loads, only); err != nil {
		return err
	}
	runners := make([][]runner, len(loads))
	defer func() {
		for _, rs := range runners {
			for _, r := range rs {
				if r != nil {
					err = errors.Join(err, r.close())
				}
			}
		}
	}()
	t := newTable(cols, loads)
	first := make([]int, len(loads)) // table row of each workload's first row
	for li, l := range loads {
		if li > 0 {
			first[li] = first[li-1] + len(loads[li-1].rows)
		}
		runners[li] = make([]runner, len(cols))
		for ci, c := range cols {
			cacheDir := filepath.Join(stateRoot, "cache", fmt.Sprintf("%s-%d", l.key, ci))
			if err := os.MkdirAll(cacheDir, 0o755); err != nil {
				return err
			}
			if runners[li][ci], err = l.start(c, cacheDir); err != nil {
				return err
			}
			if runners[li][ci] == nil {
				for ri := range l.rows {
					t.na[first[li]+ri][ci] = l.na
				}
			}
		}
	}
	for round := 0; round <= rounds; round++ {
		if round == 0 {
			fmt.Fprintln(log, "warm-up round")
		} else {
			fmt.Fprintf(log, "round %d/%d\n", round, rounds)
		}
		for li, l := range loads {
			for k := range cols {
				ci := (k + round) % len(cols)
				if runners[li][ci] == nil {
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), roundTimeout)
				cpu0 := cpuTime()
				ds, err := runners[li][ci].round(ctx)
				cpu := cpuTime() - cpu0
				cancel()
				if err != nil {
					return fmt.Errorf("round %d, %s, workload %q: %w", round, cols[ci].title, l.key, err)
				}
				if round == 0 {
					continue
				}
				for ri, d := range ds {
					t.samples[first[li]+ri][ci] = append(t.samples[first[li]+ri][ci], d)
				}
				t.cpu[li][ci] = append(t.cpu[li][ci], cpu)
			}
		}
	}
	fmt.Fprintf(out, "%s; %d rounds after a warm-up, order rotated each round; cells: median (p90 round) ×time ratio to raw libcni\n\n",
		machine(), rounds)
	t.write(out)
	fmt.Fprintf(out, "\nCPU time per round (this process and the plugins it ran, user+system), median ms:\n\n")
	t.writeCPU(out)
	return nil
}

// selectWorkloads keeps the workloads named in only (comma-separated
// keys), in table order; all of them when only is empty.
func selectWorkloads(loads []workload, only string) ([]workload, error) {
	if only == "" {
		return loads, nil
	}
	var keep []workload
	for _, key := range strings.Split(only, ",") {
		i := slices.IndexFunc(loads, func(l workload) bool { return l.key == key })
		if i < 0 {
			return nil, fmt.Errorf("unknown workload %q", key)
		}
		keep = append(keep, loads[i])
	}
	return keep, nil
}

// machine describes where the table was measured.
func machine() string {
	kernel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		kernel = []byte("unknown")
	}
	parts := []string{
		fmt.Sprintf("nproc %d", runtime.NumCPU()),
		"kernel " + strings.TrimSpace(string(kernel)),
		runtime.Version(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/containerd/go-cni", "github.com/containernetworking/cni":
				parts = append(parts, filepath.Base(d.Path)+" "+d.Version)
			}
		}
	}
	return strings.Join(parts, ", ")
}
