//go:build !linux

package attachstore

import "os"

// procStart returns "": without /proc, a writer is known by its PID alone.
func procStart(int) string { return "" }

// writerGone reports whether the writer with pid is not this process;
// only one runtime uses a cache dir at a time.
func writerGone(pid int, _ string) bool { return pid != os.Getpid() }
