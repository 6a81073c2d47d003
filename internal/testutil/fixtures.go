package testutil

// Configuration fixtures and small helpers the packages' tests share.

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/netplumb/ocicni/types"
)

// MustJSON is v as JSON (marshalling test fixtures does not fail).
func MustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ConfBytes is a conflist of the given plugin types (noop when none).
func ConfBytes(name, version string, types ...string) []byte {
	if len(types) == 0 {
		types = []string{"noop"}
	}
	var plugins []map[string]any
	for _, t := range types {
		plugins = append(plugins, map[string]any{"type": t})
	}
	return []byte(MustJSON(map[string]any{"cniVersion": version, "name": name, "plugins": plugins}))
}

// WriteFile writes data to path and fails the test when that fails.
func WriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// NetworkNames lists the names of the set's networks, in the set's order.
func NetworkNames(s types.NetworkSet) []string {
	var out []string
	for _, n := range s.Networks {
		out = append(out, n.Name)
	}
	return out
}

// Median returns the middle value of ds without reordering the caller's
// slice.
func Median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// Joined returns the errors Joined in err (err itself when not Joined).
func Joined(err error) []error {
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}
