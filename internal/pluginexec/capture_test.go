package pluginexec

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/types"
)

// flooded is how much the flooding plugin writes: far more than any bound.
const flooded = 256 << 20

// allocBound is what one flooded exec may allocate in all.
const allocBound = flooded / 8

// allocatedBy returns how many bytes the heap handed out while f ran.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A plugin printing 256 MiB on stdout fails with an error a caller can
// match, and the runtime keeps no more than the cap: before, stdout went
// into an unbounded buffer (300 MB grew the runtime by about 1 GiB).
func TestExecPluginCapsStdout(t *testing.T) {
	var err error
	alloc := allocatedBy(func() {
		_, err = execFaulty(t, nil, "ADD", map[string]any{"faults": map[string]string{"ADD": "flood"}, "floodBytes": flooded})
	})
	if !errors.Is(err, types.ErrPluginOutputTooLarge) || !errors.Is(err, types.ErrInvalidPluginOutput) {
		t.Fatalf("error = %v, want ErrPluginOutputTooLarge and ErrInvalidPluginOutput", err)
	}
	if !strings.Contains(err.Error(), "268435456 bytes on stdout") {
		t.Errorf("error %q does not say how much the plugin printed", err)
	}
	t.Logf("a %d MiB flood on stdout allocated %.1f MiB", flooded>>20, float64(alloc)/(1<<20))
	// The bound leaves room for the plugin copy the helper makes and the
	// cap's buffer growing; buffering the flood would take 256 MiB or more.
	if alloc > allocBound {
		t.Errorf("the exec allocated %d MiB for a %d MiB flood; want under %d MiB", alloc>>20, flooded>>20, allocBound>>20)
	}
}

// A plugin printing 256 MiB on stderr still succeeds; the log gets the
// head and the tail of what it wrote, and the runtime keeps only those.
func TestExecPluginKeepsHeadAndTailOfStderr(t *testing.T) {
	var logged bytes.Buffer
	log := logrus.New()
	log.SetOutput(&logged)
	log.SetLevel(logrus.DebugLevel)
	var (
		out []byte
		err error
	)
	alloc := allocatedBy(func() {
		out, err = execFaulty(t, New(Config{Log: log}), "ADD", map[string]any{"faults": map[string]string{"ADD": "flood-stderr"}, "floodBytes": flooded})
	})
	if err != nil || !bytes.Contains(out, []byte(`"ips"`)) {
		t.Fatalf("ExecPlugin = %q, %v; want the plugin's result", out, err)
	}
	for _, want := range []string{"FLOOD-START", "FLOOD-END", "bytes of stderr omitted"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the log lacks %q", want)
		}
	}
	if n := logged.Len(); n > 4*(stderrHead+stderrTail) {
		t.Errorf("the log got %d KiB of stderr; want about %d KiB", n>>10, (stderrHead+stderrTail)>>10)
	}
	t.Logf("a %d MiB flood on stderr allocated %.1f MiB", flooded>>20, float64(alloc)/(1<<20))
	if alloc > allocBound {
		t.Errorf("the exec allocated %d MiB for a %d MiB flood of stderr; want under %d MiB", alloc>>20, flooded>>20, allocBound>>20)
	}
}

func TestHeadTailKeepsBothEnds(t *testing.T) {
	h := &headTail{headCap: 4, tailCap: 4}
	for _, w := range []string{"ab", "cdef", "g", "hijklm", "n"} {
		_, _ = h.Write([]byte(w))
	}
	if got, want := string(h.Bytes()), "abcd\n[… 6 bytes of stderr omitted …]\nklmn"; got != want {
		t.Errorf("Bytes() = %q, want %q", got, want)
	}
	small := &headTail{headCap: 4, tailCap: 4}
	_, _ = small.Write([]byte("abcdef"))
	if got := string(small.Bytes()); got != "abcdef" {
		t.Errorf("Bytes() = %q, want all of a short stderr", got)
	}
}
