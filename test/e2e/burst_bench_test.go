//go:build linux

package e2e

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
)

var (
	burstPods = flag.Int("burst-pods", 12,
		"BenchmarkBurst: pods torn down, and as many set up, at once (200 for the documented figures)")
	burstLimit = flag.Int("burst-limit", 2*runtime.NumCPU(), "BenchmarkBurst: the WithExecLimit bound of its bounded run")
)

// burstRetryFor bounds how long a setup is retried for want of an
// address.
const burstRetryFor = 5 * time.Minute

// errNoAddress is host-local's complaint when its pool is used up.
const errNoAddress = "no IP addresses available"

// burstRun is what one burst measured.
type burstRun struct {
	lastDel, lastAdd time.Duration
	noAddress        int64 // setups failed for want of an address, then retried
}

// burstWay sets up and tears down one pod in one of the ways compared.
type burstWay struct {
	name     string
	setUp    func(ctx context.Context, pod ocicni.PodNetwork) error
	tearDown func(ctx context.Context, pod ocicni.PodNetwork) error
}

// A node's burst on a tight address pool: -burst-pods pods are up, then
// as many new pods are set up while the old ones are torn down, all at
// once (the setups asked for first, as in a rollout), on one bridge +
// host-local network whose pool holds as many addresses as there are pods
// up, so every setup needs an address a teardown frees. A setup that fails
// for want of an address is retried after 50 ms, as a kubelet would
// (later). Each iteration runs the burst through raw libcni, through the
// library, and through the library with WithExecLimit(-burst-limit), each
// on a fresh bridge and pool, in an order that rotates every iteration,
// and reports for each the time until the last teardown ended, until the
// last setup ended, and how many setups failed for want of an address.
func BenchmarkBurst(b *testing.B) {
	n := *burstPods
	nets := make([]string, 2*n)
	for i := range nets {
		nets[i] = testutil.NewNetNS(b)
	}
	ways := []func() burstWay{
		func() burstWay { return burstLibcni(b, n) },
		func() burstWay { return burstLibrary(b, n, "library") },
		func() burstWay { return burstLibrary(b, n, "bound", ocicni.WithExecLimit(*burstLimit)) },
	}
	sums := make([]burstRun, len(ways))
	names := make([]string, len(ways))
	b.StopTimer()
	for iter := range b.N {
		// The order rotates every iteration, so a change of load on the
		// machine falls on every way alike.
		for k := range ways {
			i := (k + iter) % len(ways)
			way := ways[i]()
			names[i] = way.name
			r := burstOnce(b, way, nets[:n], nets[n:])
			sums[i].lastDel += r.lastDel
			sums[i].lastAdd += r.lastAdd
			sums[i].noAddress += r.noAddress
		}
	}
	per := float64(b.N)
	for i, s := range sums {
		b.ReportMetric(s.lastDel.Seconds()*1000/per, names[i]+"-last-del-ms")
		b.ReportMetric(s.lastAdd.Seconds()*1000/per, names[i]+"-last-add-ms")
		b.ReportMetric(float64(s.noAddress)/per, names[i]+"-noaddr-fails")
	}
}

// burstOnce sets a pod up in each of olds, then times the burst: every
// old pod torn down while a new pod is set up in each of news. It leaves
// nothing behind.
func burstOnce(b *testing.B, way burstWay, olds, news []string) burstRun {
	ctx := context.Background()
	pods := func(prefix string, nets []string) []ocicni.PodNetwork {
		out := make([]ocicni.PodNetwork, len(nets))
		for i, ns := range nets {
			out[i] = ocicni.PodNetwork{Name: fmt.Sprint(prefix, i), Namespace: "burst", ID: benchID(), NetNS: ns}
		}
		return out
	}
	old, fresh := pods("old", olds), pods("new", news)
	for _, pod := range old {
		if err := way.setUp(ctx, pod); err != nil {
			b.Fatalf("%s: filling the pool: %v", way.name, err)
		}
	}
	// A plugin stuck in the kernel must fail the run, not hang it.
	ctx, cancel := context.WithTimeout(ctx, burstRetryFor+time.Minute)
	defer cancel()
	b.StartTimer()
	start := time.Now()
	var run burstRun
	// Each pod's operation notes when it ended in its own slot.
	delEnd, addEnd := make([]time.Duration, len(old)), make([]time.Duration, len(fresh))
	var wg sync.WaitGroup
	errs := make(chan error, len(old)+len(fresh))
	// A failed teardown leaves its address taken for good, so the setups
	// stop retrying when one fails, and give up after burstRetryFor.
	stop, failed := context.WithCancel(ctx)
	defer failed()
	// The new pods are asked for first, as a rollout creates its new pods
	// before it deletes the old ones; the teardowns follow at once.
	for i := range fresh {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				err := way.setUp(ctx, fresh[i])
				if err == nil || !strings.Contains(err.Error(), errNoAddress) {
					errs <- err
					break
				}
				atomic.AddInt64(&run.noAddress, 1)
				if stop.Err() != nil || time.Since(start) > burstRetryFor {
					errs <- fmt.Errorf("gave up retrying: %w", err)
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			addEnd[i] = time.Since(start)
		}()
	}
	for i := range old {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := way.tearDown(ctx, old[i]); err != nil {
				errs <- fmt.Errorf("teardown of %s: %w", old[i].ID, err)
				failed()
			}
			delEnd[i] = time.Since(start)
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatalf("%s: %v", way.name, err)
		}
	}
	run.lastDel, run.lastAdd = slices.Max(delEnd), slices.Max(addEnd)
	for _, pod := range fresh {
		if err := way.tearDown(context.Background(), pod); err != nil {
			b.Fatalf("%s: cleaning up: %v", way.name, err)
		}
	}
	return run
}

// burstWorld is a world whose only network, "burst", is bridge +
// host-local with a pool of exactly pods addresses, and the file holding
// it.
func burstWorld(b *testing.B, pods int) (*world, string) {
	w := newWorld(b)
	subnet := netip.MustParsePrefix(fmt.Sprintf("10.%d.0.0/16", 100+w.n%100))
	first := subnet.Addr().Next().Next()
	last := first
	for range pods - 1 {
		last = last.Next()
	}
	conf := bridgeNetOn("burst", w.bridge, subnet.String(), w.dataDir)
	conf["plugins"].([]map[string]any)[0]["ipam"].(map[string]any)["ranges"] = [][]map[string]string{{{
		"subnet": subnet.String(), "rangeStart": first.String(), "rangeEnd": last.String(),
	}}}
	b.Cleanup(func() { assertClean(b, w, "burst") })
	return w, w.writeConf("10-burst.conflist", conf)
}

// burstLibrary is the library on a fresh burst world with opts.
func burstLibrary(b *testing.B, pods int, name string, opts ...ocicni.Option) burstWay {
	w, _ := burstWorld(b, pods)
	p := w.plugin(opts...)
	return burstWay{
		name: name,
		setUp: func(ctx context.Context, pod ocicni.PodNetwork) error {
			_, err := p.SetUpPodWithContext(ctx, pod)
			return err
		},
		tearDown: p.TearDownPodWithContext,
	}
}

// burstLibcni is raw libcni on a fresh burst world, with what a runtime
// must add: the DEL of a failed ADD.
func burstLibcni(b *testing.B, pods int) burstWay {
	w, file := burstWorld(b, pods)
	exec := &invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: io.Discard}, PluginDecoder: version.PluginDecoder{}}
	cni := libcni.NewCNIConfigWithCacheDir([]string{w.binDir}, w.cacheDir, exec)
	list, err := libcni.ConfListFromFile(file)
	if err != nil {
		b.Fatal(err)
	}
	rt := func(pod ocicni.PodNetwork) *libcni.RuntimeConf {
		return &libcni.RuntimeConf{
			ContainerID: pod.ID, NetNS: pod.NetNS, IfName: "eth0",
			Args: [][2]string{
				{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", pod.Namespace}, {"K8S_POD_NAME", pod.Name},
				{"K8S_POD_INFRA_CONTAINER_ID", pod.ID}, {"K8S_POD_UID", ""},
			},
		}
	}
	return burstWay{
		name: "libcni",
		setUp: func(ctx context.Context, pod ocicni.PodNetwork) error {
			_, err := cni.AddNetworkList(ctx, list, rt(pod))
			if err != nil {
				err = errors.Join(err, cni.DelNetworkList(ctx, list, rt(pod)))
			}
			return err
		},
		tearDown: func(ctx context.Context, pod ocicni.PodNetwork) error {
			return cni.DelNetworkList(ctx, list, rt(pod))
		},
	}
}
