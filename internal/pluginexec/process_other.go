//go:build !linux

package pluginexec

import (
	"os/exec"
	"time"
)

// Elsewhere a plugin runs as a plain child; cancellation kills only it.
func ownGroup(*exec.Cmd) {}

func endGroup(int, time.Duration) error { return nil }

// Elsewhere plugins keep the runtime's priority.
func niceGroup(int, int) error { return nil }
