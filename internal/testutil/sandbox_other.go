//go:build !linux

package testutil

import (
	"os"
	"testing"
)

// Main runs the tests; network namespaces exist only on Linux.
func Main(m *testing.M) { os.Exit(m.Run()) }

// InSandbox is always false off Linux.
func InSandbox() bool { return false }

// RequireRoot skips: network namespaces exist only on Linux.
func RequireRoot(tb testing.TB) { tb.Skip("skipped: network namespaces exist only on Linux") }

// NewNetNS skips: network namespaces exist only on Linux.
func NewNetNS(tb testing.TB) string { RequireRoot(tb); return "" }

// ProcessAlive is always false off Linux, where the tests that ask skip.
func ProcessAlive(int) bool { return false }

// Niceness skips off Linux, where there is no /proc to read it from.
func Niceness(tb testing.TB, _ int) int {
	tb.Skip("skipped: niceness is read from /proc, which exists only on Linux")
	return 0
}

// ProcessesOf finds nothing off Linux, where there is no /proc to look in.
func ProcessesOf(testing.TB, string) []string { return nil }
