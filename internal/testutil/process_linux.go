package testutil

import (
	"os"
	"strconv"
	"strings"
)

// ProcessAlive reports whether process pid exists and is not a zombie, so
// a test can prove that a killed plugin, or a child it started, is gone.
func ProcessAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(stat)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}
