package pluginexec

import (
	"fmt"
	"os"
	"time"

	"github.com/netplumb/ocicni/types"
)

const (
	// StdoutCap bounds what a plugin may print on stdout. A CNI result or
	// error is a few KiB even for a pod with many interfaces and routes, so
	// 4 MiB leaves room for any honest plugin while a runaway one cannot
	// grow the runtime by more.
	StdoutCap = 4 << 20
	// stderrHead and stderrTail are how much of a plugin's stderr is kept:
	// its first and last bytes, where a failing program's usage line and
	// its final error sit.
	stderrHead = 32 << 10
	stderrTail = 32 << 10
	// readChunk is the size of one read from a plugin's pipe.
	readChunk = 32 << 10
)

// capped keeps up to limit bytes written to it and counts the rest.
type capped struct {
	buf   []byte
	limit int
	total int64
}

func (c *capped) Write(p []byte) (int, error) {
	c.total += int64(len(p))
	if room := c.limit - len(c.buf); room > 0 {
		q := p[:min(room, len(p))]
		if len(c.buf)+len(q) > cap(c.buf) {
			// Doubling, where append grows a large slice by a quarter,
			// keeps what a result near the cap costs to twice the cap.
			grown := make([]byte, len(c.buf), min(max(2*cap(c.buf), len(c.buf)+len(q)), c.limit))
			copy(grown, c.buf)
			c.buf = grown
		}
		c.buf = append(c.buf, q...)
	}
	return len(p), nil
}

// overflowed reports whether more was written than kept.
func (c *capped) overflowed() bool { return c.total > int64(len(c.buf)) }

// tooLarge is the error of a plugin whose stdout went past the cap.
func (c *capped) tooLarge() error {
	return fmt.Errorf("printed %d bytes on stdout, more than the %d a CNI result may take: %w", c.total, c.limit, types.ErrPluginOutputTooLarge)
}

// headTail keeps the first head and the last tail bytes written to it.
type headTail struct {
	head, tail []byte
	headCap    int
	tailCap    int
	total      int64
}

func (h *headTail) Write(p []byte) (int, error) {
	h.total += int64(len(p))
	q := p
	if room := h.headCap - len(h.head); room > 0 {
		n := min(room, len(q))
		h.head = append(h.head, q[:n]...)
		q = q[n:]
	}
	if len(q) >= h.tailCap {
		h.tail = append(h.tail[:0], q[len(q)-h.tailCap:]...)
	} else if len(q) > 0 {
		if drop := len(h.tail) + len(q) - h.tailCap; drop > 0 {
			h.tail = append(h.tail[:0], h.tail[drop:]...)
		}
		h.tail = append(h.tail, q...)
	}
	return len(p), nil
}

// Bytes returns what was kept, with a note of how much was left out
// between the head and the tail.
func (h *headTail) Bytes() []byte {
	omitted := h.total - int64(len(h.head)) - int64(len(h.tail))
	if omitted == 0 {
		return append(h.head[:len(h.head):len(h.head)], h.tail...)
	}
	out := append([]byte{}, h.head...)
	out = fmt.Appendf(out, "\n[… %d bytes of stderr omitted …]\n", omitted)
	return append(out, h.tail...)
}

// pipeReader copies one of a plugin's output pipes into a sink as the
// plugin writes, so the plugin never blocks on a full pipe, and can stop
// once the plugin has exited, whoever else still holds the pipe's write end.
type pipeReader struct {
	f    *os.File
	sink interface{ Write([]byte) (int, error) }
	done chan struct{}
}

// readPipe starts copying f into sink.
func readPipe(f *os.File, sink interface{ Write([]byte) (int, error) }) *pipeReader {
	r := &pipeReader{f: f, sink: sink, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, readChunk)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				_, _ = sink.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	return r
}

// finish is called once the plugin has exited: everything it wrote is
// then in the pipe or already read, and whatever a process it left behind
// writes later is no part of its answer. finish interrupts the copy, takes
// in what the pipe still holds without waiting for more, and closes it.
func (r *pipeReader) finish() {
	_ = r.f.SetReadDeadline(time.Now())
	<-r.done
	_ = r.f.SetReadDeadline(time.Time{})
	drainPipe(r.f, r.sink)
	_ = r.f.Close()
}
