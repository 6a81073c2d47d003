//go:build !linux

package pluginexec

import (
	"errors"
	"os/exec"
	"time"
)

// Elsewhere a plugin runs as a plain child; cancellation kills only it.
func ownGroup(*exec.Cmd) {}

func endGroup(int, time.Duration) error { return nil }

// Elsewhere plugins keep the runtime's priority.
func niceGroup(int, int) error { return nil }

// Elsewhere nothing is killed after a plugin exits.
func awaitExit(int) error { return errors.ErrUnsupported }

func killGroup(int) error { return nil }
