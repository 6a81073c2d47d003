package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// watchSettle separates one watch round from the next, so that every
// round meets an idle watcher, as a conflist landing on a quiet node does,
// rather than one still busy with the previous round's removal (a reload
// and at most one follow-up).
const watchSettle = 150 * time.Millisecond

// row is one line of the table. A row with pods > 0 shows its durations as
// pods per second for a batch of that many pods; otherwise as ms.
type row struct {
	title string
	pods  int
}

// runner does one round of a workload for one column and returns one
// duration per row of the workload.
type runner interface {
	round(ctx context.Context) ([]time.Duration, error)
	close() error
}

// workload is a group of rows measured by one run of a runner. start
// builds a column's runner once for the whole run; a nil runner means the
// workload does not apply, and the cells say why (na).
type workload struct {
	key   string
	rows  []row
	start func(c column, cacheDir string) (runner, error)
	na    string
}

// workloads lists the workloads of the table, in row order.
func workloads(w *world, pods int) ([]workload, error) {
	one, err := w.newNetset("one", 1, 1)
	if err != nil {
		return nil, err
	}
	three, err := w.newNetset("three", 3, 2)
	if err != nil {
		return nil, err
	}
	podsLoad := func(key string, s *netset, n int, rows ...row) workload {
		return workload{key: key, rows: rows, start: func(c column, cacheDir string) (runner, error) {
			p, err := c.build(w, s, cacheDir)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.title, err)
			}
			return &podRunner{w: w, s: s, peer: p, pods: n}, nil
		}}
	}
	return []workload{
		podsLoad("one", one, 1, row{title: "one pod, 1 network, setup+teardown (ms)"}),
		podsLoad("three", three, 1, row{title: "one pod, 3 networks, setup+teardown (ms)"}),
		podsLoad("batch", one, pods,
			row{title: fmt.Sprintf("%d pods at once, setup (pods/s)", pods), pods: pods},
			row{title: fmt.Sprintf("%d pods at once, teardown (pods/s)", pods), pods: pods}),
		{
			key: "watch",
			rows: []row{
				{title: "watch-to-loaded, conflist renamed into place (ms)"},
				{title: "watch-to-ready, the same, with the plugins' STATUS answered (ms)"},
			},
			na: "no watcher",
			start: func(c column, cacheDir string) (runner, error) {
				if c.watch == nil {
					return nil, nil
				}
				return newWatchRunner(w, c, cacheDir)
			},
		},
	}, nil
}

// podRunner sets up pods on fresh namespaces, all at once, then tears
// them all down at once, and checks that nothing is left behind.
type podRunner struct {
	w    *world
	s    *netset
	peer peer
	pods int
}

// round returns the setup+teardown time for a single pod, or the setup
// time and the teardown time of the batch.
func (r *podRunner) round(ctx context.Context) ([]time.Duration, error) {
	pods, err := r.w.newPods(r.pods)
	if err != nil {
		return nil, err
	}
	defer deletePods(pods)
	start := time.Now()
	if err := r.each(ctx, pods, r.peer.setUp); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	mid := time.Now()
	if err := r.each(ctx, pods, r.peer.tearDown); err != nil {
		return nil, fmt.Errorf("teardown: %w", err)
	}
	end := time.Now()
	left, err := r.w.leftovers(r.s, r.peer.cacheDir())
	if err != nil {
		return nil, err
	}
	if len(left) > 0 {
		return nil, fmt.Errorf("left behind after teardown: %s", strings.Join(left, ", "))
	}
	if r.pods == 1 {
		return []time.Duration{end.Sub(start)}, nil
	}
	return []time.Duration{mid.Sub(start), end.Sub(mid)}, nil
}

// each runs op for every pod at once and returns the first error.
func (r *podRunner) each(ctx context.Context, pods []pod, op func(context.Context, pod) error) error {
	errs := make([]error, len(pods))
	var wg sync.WaitGroup
	for i, p := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := op(ctx, p); err != nil {
				errs[i] = fmt.Errorf("pod %s: %w", p.id, err)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *podRunner) close() error { return r.peer.close() }

// watchRunner renames a conflist into a watched, empty conf dir, as a
// network provider installs its configuration, and times until the
// configuration is in force and until the watcher reports ready, which for
// a cniVersion 1.1.0 conflist includes every plugin answering STATUS.
type watchRunner struct {
	watcher watcher
	staging string
	target  string
	data    []byte
}

func newWatchRunner(w *world, c column, cacheDir string) (runner, error) {
	dir := filepath.Join(stateRoot, "watch", filepath.Base(cacheDir))
	confDir, staging := filepath.Join(dir, "conf"), filepath.Join(dir, "staging")
	for _, d := range []string{confDir, staging} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	data, err := w.conflist("watched", "pbwatched", 200)
	if err != nil {
		return nil, err
	}
	wt, err := c.watch(w, confDir, cacheDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.title, err)
	}
	return &watchRunner{watcher: wt, staging: staging, target: filepath.Join(confDir, "10-watched.conflist"), data: data}, nil
}

func (r *watchRunner) round(ctx context.Context) ([]time.Duration, error) {
	src := filepath.Join(r.staging, "watched.conflist")
	if err := os.WriteFile(src, r.data, 0o644); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := os.Rename(src, r.target); err != nil {
		return nil, err
	}
	if err := r.watcher.waitLoaded(ctx); err != nil {
		return nil, fmt.Errorf("waiting for the configuration: %w", err)
	}
	loaded := time.Since(start)
	if err := r.watcher.waitReady(ctx); err != nil {
		return nil, fmt.Errorf("waiting for ready: %w", err)
	}
	ready := time.Since(start)
	if err := os.Remove(r.target); err != nil {
		return nil, err
	}
	if err := r.watcher.waitGone(ctx); err != nil {
		return nil, err
	}
	time.Sleep(watchSettle)
	return []time.Duration{loaded, ready}, nil
}

func (r *watchRunner) close() error { return r.watcher.close() }
