package attachstore

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// procStart returns when process pid started (clock ticks since boot, as
// /proc says), or "" when no such process runs or it has exited and only
// waits to be reaped. A PID with the same start time is the same process.
func procStart(pid int) string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces and parentheses; the
	// fields after its closing one are fixed: state is 3, starttime 22.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}

// writerGone reports whether the process that started at start with pid
// no longer runs.
func writerGone(pid int, start string) bool {
	return procStart(pid) != start
}
