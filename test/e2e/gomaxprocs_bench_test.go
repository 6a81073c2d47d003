//go:build linux

package e2e

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/internal/testutil"
)

// cappedExec runs plugins with GOMAXPROCS set to procs in their
// environment, or unset when procs is "".
type cappedExec struct {
	invoke.Exec
	procs string
}

func (e cappedExec) ExecPlugin(ctx context.Context, path string, stdin []byte, environ []string) ([]byte, error) {
	env := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	if e.procs != "" {
		env = append(env, "GOMAXPROCS="+e.procs)
	}
	return e.Exec.ExecPlugin(ctx, path, stdin, env)
}

// What a GOMAXPROCS cap in the plugins' environment does to the cost of
// Go plugins: VERSION of bridge (one exec: the Go runtime's start and
// little else) and ADD and DEL of the bridge + host-local + tuning chain
// through libcni, with GOMAXPROCS unset (the plugin sizes itself to the
// machine's CPUs), 1, 2, and 16 (what a plugin sizes itself to on a
// 16-CPU node, acted out here on fewer CPUs). Variants run interleaved,
// in an order rotated every iteration; each reports medians.
func BenchmarkPluginGOMAXPROCS(b *testing.B) {
	w, file := benchWorld(b)
	netnsPath := testutil.NewNetNS(b)
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		b.Fatal(err)
	}
	bridge := filepath.Join(w.binDir, "bridge")
	procs := []string{"", "1", "2", "16"}
	type variant struct {
		cni                *libcni.CNIConfig
		exec               cappedExec
		version, add, dels []time.Duration
	}
	vs := make([]*variant, len(procs))
	for i, p := range procs {
		exec := cappedExec{Exec: &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}, PluginDecoder: version.PluginDecoder{}}, procs: p}
		vs[i] = &variant{cni: libcni.NewCNIConfigWithCacheDir([]string{w.binDir}, b.TempDir(), exec), exec: exec}
	}
	ctx := context.Background()
	once := func(v *variant, keep bool) {
		t0 := time.Now()
		if _, err := v.exec.ExecPlugin(ctx, bridge, []byte(`{"cniVersion":"1.1.0"}`),
			append(os.Environ(), "CNI_COMMAND=VERSION", "CNI_PATH="+w.binDir)); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		rt := &libcni.RuntimeConf{ContainerID: benchID(), NetNS: netnsPath, IfName: "eth0"}
		if _, err := v.cni.AddNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		if err := v.cni.DelNetworkList(ctx, list, rt); err != nil {
			b.Fatal(err)
		}
		if keep {
			v.version = append(v.version, t1.Sub(t0))
			v.add = append(v.add, t2.Sub(t1))
			v.dels = append(v.dels, time.Since(t2))
		}
	}
	for _, v := range vs {
		once(v, false)
	}
	n := 0
	for b.Loop() {
		for k := range vs {
			once(vs[(k+n)%len(vs)], true)
		}
		n++
	}
	for i, v := range vs {
		name := "procs=" + procs[i]
		if procs[i] == "" {
			name = "procs=unset"
		}
		b.ReportMetric(float64(medianOf(v.version).Microseconds())/1000, "version-ms-"+name)
		b.ReportMetric(float64(medianOf(v.add).Microseconds())/1000, "add-ms-"+name)
		b.ReportMetric(float64(medianOf(v.dels).Microseconds())/1000, "del-ms-"+name)
	}
	assertClean(b, w, "podnet")
}

// medianOf returns the median of ds, which it sorts.
func medianOf(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
