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
// nil), is skipped at once: there is no good version to keep (but see
// settling and Source.awaitWrites for the first load).
func keepSettling(prev *Set, path string, err error, now time.Time) (*Network, time.Time, bool) {
	if prev == nil {
		return nil, time.Time{}, false
	}
	old := prev.byFile(path)
	if old == nil && prev.skipped(path) {
		return nil, time.Time{}, false
	}
	until, ok := settling(path, err, now)
	if !ok {
		return nil, time.Time{}, false
	}
	return old, until, true
}

// settling reports whether a file that fails with err at now may only be
// in the middle of a write: err is about its content and the file changed
// within settleWindow. It returns when the failure is to be believed.
func settling(path string, err error, now time.Time) (time.Time, bool) {
	var pf parseFailure
	if !errors.As(err, &pf) {
		return time.Time{}, false
	}
	fi, serr := os.Stat(path)
	if serr != nil {
		return time.Time{}, false
	}
	changed := changeTime(fi)
	if age := now.Sub(changed); age <= -settleWindow || age >= settleWindow {
		return time.Time{}, false
	}
	return changed.Add(settleWindow), true
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

// pendingFile is a file a load skipped with no good version to keep,
// though it may only be in the middle of a write, until settles.
type pendingFile struct {
	path  string
	until time.Time
}

// pendingAhead returns when the latest of the files in writing settles,
// counting only those that may decide the default network: a file that
// sorts before the default chosen without it (files are read in byte
// order), or any file while the default asked for by name is not loaded.
// Zero when there are none. A file mid-write behind the default changes
// nothing a caller without a network name sees, and with no network loaded
// at all Status already says not ready.
func pendingAhead(writing []pendingFile, set *Set) time.Time {
	var until time.Time
	for _, f := range writing {
		ahead := set.Default != nil && set.WantDefault == "" && f.path < set.Default.File
		missing := set.WantDefault != "" && set.Default == nil && len(set.Ordered) > 0
		if (ahead || missing) && f.until.After(until) {
			until = f.until
		}
	}
	return until
}
