package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/netplumb/ocicni/ocicni"
)

// spanLog keeps the spans of one invocation in memory, so --timings can
// print them without an exporter or a collector.
//
// Locking rule: mu guards ended, which the SDK appends to from whichever
// goroutine ends a span.
type spanLog struct {
	provider *sdktrace.TracerProvider
	mu       sync.Mutex
	ended    []sdktrace.ReadOnlySpan
}

var _ sdktrace.SpanProcessor = (*spanLog)(nil)

func newSpanLog() *spanLog {
	l := &spanLog{}
	l.provider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(l))
	return l
}

func (l *spanLog) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (l *spanLog) OnEnd(s sdktrace.ReadOnlySpan) {
	l.mu.Lock()
	l.ended = append(l.ended, s)
	l.mu.Unlock()
}

func (l *spanLog) Shutdown(context.Context) error   { return nil }
func (l *spanLog) ForceFlush(context.Context) error { return nil }

// timingNode is one step of an operation: the operation itself, one
// network of it, or one plugin exec. Its JSON keys are stable.
type timingNode struct {
	Step      string        `json:"step"` // setup, teardown, status; network add, del, status; plugin ADD, DEL, CHECK, VERSION
	Network   string        `json:"network,omitempty"`
	Ifname    string        `json:"ifname,omitempty"`
	Plugin    string        `json:"plugin,omitempty"`
	Seconds   float64       `json:"seconds"`
	Error     string        `json:"error,omitempty"`
	ErrorCode *int64        `json:"error_code,omitempty"`
	Children  []*timingNode `json:"children,omitempty"`
}

// tree returns the pod operations recorded so far, each with its networks
// and their plugin execs, in start order. Spans outside an operation (the
// VERSION execs of loading the configuration) are left out.
func (l *spanLog) tree() []*timingNode {
	l.mu.Lock()
	spans := append([]sdktrace.ReadOnlySpan(nil), l.ended...)
	l.mu.Unlock()
	sort.Slice(spans, func(i, j int) bool { return spans[i].StartTime().Before(spans[j].StartTime()) })
	kids := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans {
		if s.Parent().IsValid() {
			id := s.Parent().SpanID().String()
			kids[id] = append(kids[id], s)
		}
	}
	var build func(s sdktrace.ReadOnlySpan) *timingNode
	build = func(s sdktrace.ReadOnlySpan) *timingNode {
		n := newTimingNode(s)
		for _, c := range kids[s.SpanContext().SpanID().String()] {
			n.Children = append(n.Children, build(c))
		}
		return n
	}
	var roots []*timingNode
	for _, s := range spans {
		if !s.Parent().IsValid() && strings.HasPrefix(s.Name(), "ocicni.") {
			roots = append(roots, build(s))
		}
	}
	return roots
}

func newTimingNode(s sdktrace.ReadOnlySpan) *timingNode {
	step := strings.TrimPrefix(strings.TrimPrefix(s.Name(), "ocicni."), "cni.")
	n := &timingNode{Step: step, Seconds: s.EndTime().Sub(s.StartTime()).Seconds()}
	for _, kv := range s.Attributes() {
		switch kv.Key {
		case "cni.network":
			n.Network = kv.Value.AsString()
		case "cni.ifname":
			n.Ifname = kv.Value.AsString()
		case "cni.plugin":
			n.Plugin = kv.Value.AsString()
		case "cni.error_code":
			if kv.Value.Type() == attribute.INT64 {
				code := kv.Value.AsInt64()
				n.ErrorCode = &code
			}
		}
	}
	if s.Status().Code == codes.Error {
		n.Error = s.Status().Description
	}
	return n
}

// writeTimings prints the breakdown as an indented table: the step, what
// it acted on, how long it took, and how it failed.
func writeTimings(w io.Writer, roots []*timingNode) error {
	if len(roots) == 0 {
		return nil
	}
	t := newTable(w)
	fmt.Fprintln(t, "STEP\tON\tDURATION\tOUTCOME")
	var walk func(n *timingNode, depth int)
	walk = func(n *timingNode, depth int) {
		var on []string
		if n.Plugin != "" {
			on = append(on, n.Plugin)
		}
		if n.Network != "" {
			on = append(on, n.Network)
		}
		if n.Ifname != "" {
			on = append(on, n.Ifname)
		}
		outcome := "ok"
		if n.Error != "" {
			outcome = "failed"
			if n.ErrorCode != nil {
				outcome = fmt.Sprintf("failed: CNI error %d", *n.ErrorCode)
			}
		}
		d := time.Duration(n.Seconds * float64(time.Second)).Round(time.Microsecond)
		fmt.Fprintf(t, "%s%s\t%s\t%s\t%s\n", strings.Repeat("  ", depth), n.Step, orDash(strings.Join(on, " ")), d, outcome)
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	for _, r := range roots {
		walk(r, 0)
	}
	return t.Flush()
}

// timed runs a pod verb with --timings: the Plugin reports its spans to an
// in-memory log (podPlugin adds the provider), emit adds the breakdown to
// the report, and a failure carries it into the error output.
func timed(run func(context.Context, *invocation) error) func(context.Context, *invocation) error {
	return func(ctx context.Context, inv *invocation) error {
		if !inv.timings {
			return run(ctx, inv)
		}
		inv.spans = newSpanLog()
		defer inv.spans.provider.Shutdown(context.Background())
		err := run(ctx, inv)
		if err == nil {
			return nil
		}
		roots := inv.spans.tree()
		if len(roots) == 0 {
			return err
		}
		if inv.json {
			return &timedError{err: err, timings: roots}
		}
		_ = writeTimings(inv.stdout, roots)
		return err
	}
}

// timingOptions are the library options --timings adds.
func (inv *invocation) timingOptions() []ocicni.Option {
	if inv.spans == nil {
		return nil
	}
	return []ocicni.Option{ocicni.WithTracerProvider(inv.spans.provider)}
}

// timedError is a verb's error with the breakdown of the failed operation,
// for the JSON error report. It says and matches what err does.
type timedError struct {
	err     error
	timings []*timingNode
}

func (e *timedError) Error() string { return e.err.Error() }
func (e *timedError) Unwrap() error { return e.err }

// withTimings is the JSON document of r with the breakdown added under
// "timings".
func withTimings(r report, roots []*timingNode) (any, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc["timings"], err = json.Marshal(roots); err != nil {
		return nil, err
	}
	return doc, nil
}
