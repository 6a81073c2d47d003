//go:build !linux

package pluginexec

import (
	"io"
	"os"
)

// Elsewhere what the copy had read when the plugin exited is its output.
func drainPipe(*os.File, io.Writer) {}
