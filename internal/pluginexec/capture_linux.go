package pluginexec

import (
	"errors"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// drainPipe copies into sink what pipe f holds now, without waiting for
// more. It reads at most the pipe's capacity, so a process that left the
// plugin behind and keeps writing cannot hold it.
func drainPipe(f *os.File, sink io.Writer) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Read(func(fd uintptr) bool {
		left, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		if err != nil || left <= 0 {
			left = 1 << 20
		}
		buf := make([]byte, min(readChunk, left))
		for left > 0 {
			n, err := unix.Read(int(fd), buf[:min(len(buf), left)])
			if n > 0 {
				_, _ = sink.Write(buf[:n])
				left -= n
				continue
			}
			if !errors.Is(err, unix.EINTR) {
				break
			}
		}
		// Done either way: the pipe is empty (EAGAIN), at EOF, or failed.
		return true
	})
}
