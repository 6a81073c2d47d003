package ocicni

import (
	"encoding/json"
	"slices"
	"sync"
)

// setupCalls are the setups in flight, by sandbox, so that a retry of one
// joins it instead of queueing on the pod lock and then finding the
// sandbox attached: kubelet retries RunPodSandbox after its deadline while
// the first ADD may still run.
//
// Locking rule. mu guards calls and every setupCall's joiners; it is never
// held while waiting or exec'ing. A setupCall's outcome is written once,
// by its leader, before done is closed, and read only after.
type setupCalls struct {
	mu    sync.Mutex
	calls map[string]*setupCall
}

// setupCall is one setup in flight and, once done is closed, its outcome.
type setupCall struct {
	key     string
	done    chan struct{}
	joiners int

	results []NetResult
	err     error
	// ownContext is set when the leader's setup ended because the leader's
	// own context did: that says nothing of the network, so whoever joined
	// runs the setup again rather than returning a cancellation that is not
	// theirs.
	ownContext bool
}

func newSetupCalls() *setupCalls { return &setupCalls{calls: map[string]*setupCall{}} }

// begin returns the setup of sandbox id in flight and false when it has
// the same key: the caller waits for it and returns its outcome. Otherwise
// it returns a new call and true if none was in flight, the caller then
// leading it (it must call end), or nil and false if a different setup is
// in flight, the caller then going its own way.
func (s *setupCalls) begin(id, key string) (*setupCall, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls[id]; ok {
		if c.key != key {
			return nil, false
		}
		c.joiners++
		return c, false
	}
	c := &setupCall{key: key, done: make(chan struct{})}
	s.calls[id] = c
	return c, true
}

// end records the leader's outcome and wakes those who joined. It keeps
// its own copy of the results, which the leader's caller may change.
func (s *setupCalls) end(id string, c *setupCall, results []NetResult, err error, ownContext bool) {
	s.mu.Lock()
	delete(s.calls, id)
	s.mu.Unlock()
	c.results, c.err, c.ownContext = slices.Clone(results), err, ownContext
	close(c.done)
}

// joined returns how many callers have joined the setup of id in flight.
func (s *setupCalls) joined(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.calls[id]; ok {
		return c.joiners
	}
	return 0
}

// outcome is what a caller that joined c returns: its own copy of the
// results, so callers cannot see each other's changes to the slice.
func (c *setupCall) outcome() ([]NetResult, error) {
	return slices.Clone(c.results), c.err
}

// setupKey identifies a setup request: the pod, and each attachment's
// network, interface name, netns and runtime configuration (CNI_ARGS and
// capability arguments) as planned. Two requests with the same key would
// make the same plugin calls.
func setupKey(pod *PodNetwork, atts []*attachment) string {
	type one struct {
		Network, Ifname, NetNS string
		Args                   [][2]string
		Caps                   map[string]any
	}
	k := struct {
		ID, Name, Namespace, UID string
		Atts                     []one
	}{ID: pod.ID, Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID}
	for _, a := range atts {
		k.Atts = append(k.Atts, one{a.name, a.ifname, a.rt.NetNS, a.rt.Args, a.rt.CapabilityArgs})
	}
	// Maps encode with sorted keys, so equal requests encode alike.
	b, err := json.Marshal(k)
	if err != nil {
		// A capability value that does not encode cannot be compared;
		// such a request joins nothing.
		return ""
	}
	return string(b)
}
