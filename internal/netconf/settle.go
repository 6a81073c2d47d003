package netconf

import (
	"errors"
	"os"
	"time"
)

// settleWindow is how long a configuration file must have gone unchanged
// before a reload believes that it is empty or does not parse. A rewrite in
// place (truncate, then write, as os.WriteFile does) shows the file empty
// or half-written for a moment; a reload that caught it then would take a
// good network away, and Status would fail until the next reload.
const settleWindow = time.Second

// parseFailure marks an error about a file's content, as opposed to its
// type, size or plugins: the kind a rewrite in progress explains. It reads
// exactly as the error it wraps.
type parseFailure struct{ err error }

func (e parseFailure) Error() string { return e.err.Error() }
func (e parseFailure) Unwrap() error { return e.err }

// keepSettling decides whether a file that now fails with err is only
// being written, as far as can be told: err is about the content, and the
// file changed within settleWindow. If so, it returns the network prev
// loaded from path (nil when prev did not know the file at all, which
// then stays out of the snapshot rather than appear skipped for a moment)
// and when the failure is to be believed, at which point the file must be
// read again. A file prev skipped, and every file on the first load (prev
// nil), is skipped at once: there is no good version to keep.
func keepSettling(prev *Set, path string, err error, now time.Time) (*Network, time.Time, bool) {
	var pf parseFailure
	if prev == nil || !errors.As(err, &pf) {
		return nil, time.Time{}, false
	}
	old := prev.byFile(path)
	if old == nil && prev.skipped(path) {
		return nil, time.Time{}, false
	}
	fi, serr := os.Stat(path)
	if serr != nil {
		return nil, time.Time{}, false
	}
	changed := changeTime(fi)
	if age := now.Sub(changed); age <= -settleWindow || age >= settleWindow {
		return nil, time.Time{}, false
	}
	return old, changed.Add(settleWindow), true
}

// changeTime is when a file last changed. The inode's change time is
// preferred: every write, truncate and rename sets it, and unlike the
// modification time no caller can set it to the future or the past.
func changeTime(fi os.FileInfo) time.Time {
	if _, ctime := inodeAndCtime(fi); ctime != 0 {
		return time.Unix(0, ctime)
	}
	return fi.ModTime()
}
