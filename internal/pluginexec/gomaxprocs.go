package pluginexec

import (
	"slices"
	"strconv"
	"strings"
)

// withGOMAXPROCS returns environ with GOMAXPROCS=n in place of any
// GOMAXPROCS it holds, so a plugin written in Go starts its runtime with n
// processors whatever the runtime's own setting; n <= 0 returns environ as
// it is. A Go program sizes its scheduler to the machine's CPUs at start,
// and a plugin lives for milliseconds: on a large node most of that start
// is spent on processors it never uses.
func withGOMAXPROCS(environ []string, n int) []string {
	if n <= 0 {
		return environ
	}
	out := slices.DeleteFunc(slices.Clone(environ), func(kv string) bool { return strings.HasPrefix(kv, "GOMAXPROCS=") })
	return append(out, "GOMAXPROCS="+strconv.Itoa(n))
}
