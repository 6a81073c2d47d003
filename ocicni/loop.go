package ocicni

import (
	"context"
	"errors"
	"sync"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/pluginexec"
)

// step names what forEachNetwork does to each attachment. Its value is the
// OpError's Op, the network span's name and the log's "op" field.
type step string

const (
	stepAdd    step = "add"
	stepDel    step = "del"
	stepStatus step = "status"
	stepGC     step = "gc" // GC's DEL of a stale sandbox
)

// parallel reports whether the step may run a pod's networks at once under
// WithParallelNetworks: ADDs and DELs may, a status reports in attach
// order and stops at the first failure.
func (s step) parallel() bool { return s != stepStatus }

// loopMode says how forEachNetwork walks a pod's attachments.
type loopMode int

const (
	// forwardStopAtFirst visits in attach order and stops at the first
	// failure: setup and status.
	forwardStopAtFirst loopMode = iota
	// reverseKeepGoing visits in reverse attach order, keeps going past
	// failures and joins them: rollback, teardown and GC's DELs, since
	// every attachment is owed its DEL whatever happened to the others.
	reverseKeepGoing
)

// forEachNetwork is the one loop over a pod's attachments shared by setup,
// rollback, teardown, status and GC. It runs fn on each attachment with the
// attachment's log fields in ctx and wraps every failure in an *OpError
// naming op. With WithParallelNetworks, the ADDs and DELs of one call run
// concurrently; errors then come out as the serial walk would report them:
// the first failure in attach order for forwardStopAtFirst, all of them in
// reverse attach order for reverseKeepGoing.
func (p *Plugin) forEachNetwork(ctx context.Context, pod *PodNetwork, op step, atts []*attachment,
	mode loopMode, fn func(context.Context, *attachment) error,
) error {
	one := func(a *attachment) error {
		nctx, span := p.tel.startNetwork(ctx, op, a)
		nctx = pluginexec.WithLogFields(nctx, attachFields(pod, a))
		p.logStep(nctx, op, pod, a)
		err := fn(nctx, a)
		span.end(err)
		if err == nil {
			return nil
		}
		return &OpError{Op: string(op), Pod: podName(pod), ID: pod.ID, Network: a.name, Ifname: a.ifname, Err: err}
	}
	if p.opts.parallelNetworks && op.parallel() && len(atts) > 1 {
		return joinInMode(mode, runAll(atts, one))
	}
	var errs []error
	for i := range atts {
		a := atts[i]
		if mode == reverseKeepGoing {
			a = atts[len(atts)-1-i]
		}
		err := one(a)
		if err == nil {
			continue
		}
		if mode == forwardStopAtFirst {
			return err
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// runAll runs fn on every attachment at once and returns the errors by
// position.
func runAll(atts []*attachment, fn func(*attachment) error) []error {
	errs := make([]error, len(atts))
	var wg sync.WaitGroup
	for i, a := range atts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(a)
		}()
	}
	wg.Wait()
	return errs
}

// joinInMode reports errors by position the way the serial walk of mode
// would.
func joinInMode(mode loopMode, errs []error) error {
	if mode == forwardStopAtFirst {
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	}
	var out []error
	for i := len(errs) - 1; i >= 0; i-- {
		if errs[i] != nil {
			out = append(out, errs[i])
		}
	}
	return errors.Join(out...)
}

func attachFields(pod *PodNetwork, a *attachment) logrus.Fields {
	f := podFields(pod)
	f["network"] = a.name
	f["ifname"] = a.ifname
	if a.list != nil {
		var ts []string
		for _, pl := range a.list.Plugins {
			ts = append(ts, pl.Network.Type)
		}
		f["plugins"] = ts
	}
	return f
}

func podFields(pod *PodNetwork) logrus.Fields {
	return logrus.Fields{"pod_namespace": pod.Namespace, "pod_name": pod.Name, "pod_id": pod.ID}
}

func podName(pod *PodNetwork) string {
	if pod.Namespace == "" && pod.Name == "" {
		return pod.ID
	}
	return pod.Namespace + "/" + pod.Name
}
