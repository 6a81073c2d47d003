package testutil

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// statFields returns the fields of /proc/<pid>/stat after the command
// name, which may hold spaces and parentheses; f[0] is the state.
func statFields(pid int) ([]string, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	s := string(stat)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

// Niceness returns the CPU niceness of live process pid (0 for this
// process: os.Getpid()).
func Niceness(tb testing.TB, pid int) int {
	tb.Helper()
	f, err := statFields(pid)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.Atoi(f[16])
	if err != nil {
		tb.Fatalf("niceness of %d: %v", pid, err)
	}
	return n
}

// ProcessAlive reports whether process pid exists and is not a zombie, so
// a test can prove that a killed plugin, or a child it started, is gone.
func ProcessAlive(pid int) bool {
	f, err := statFields(pid)
	return err == nil && len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// ProcessesOf returns the PIDs of live processes running the binary at
// path, so a test can prove a killed plugin is really gone.
func ProcessesOf(tb testing.TB, path string) []string {
	tb.Helper()
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		tb.Fatal(err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/exe")
	var out []string
	for _, p := range procs {
		if exe, err := os.Readlink(p); err == nil && exe == want {
			out = append(out, strings.Split(p, "/")[2])
		}
	}
	return out
}
