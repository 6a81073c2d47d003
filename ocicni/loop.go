package ocicni

import (
	"context"
	"errors"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/pluginexec"
)

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
// naming op. It returns how many attachments it visited.
func (p *Plugin) forEachNetwork(ctx context.Context, pod *PodNetwork, op string, atts []*attachment,
	mode loopMode, fn func(context.Context, *attachment) error,
) (int, error) {
	var errs []error
	visited := 0
	for i := range atts {
		a := atts[i]
		if mode == reverseKeepGoing {
			a = atts[len(atts)-1-i]
		}
		visited++
		nctx, span := p.tel.startNetwork(ctx, op, a)
		err := fn(pluginexec.WithLogFields(nctx, attachFields(pod, a)), a)
		span.end(err)
		if err == nil {
			continue
		}
		opErr := &OpError{Op: op, Pod: podName(pod), ID: pod.ID, Network: a.name, Ifname: a.ifname, Err: err}
		if mode == forwardStopAtFirst {
			return visited, opErr
		}
		errs = append(errs, opErr)
	}
	return visited, errors.Join(errs...)
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
