package attachstore

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// watcher tells the index of the names another writer (a runtime process
// killed and restarted, ocicnitool beside the runtime, libcni called
// directly) creates in the results directory, so a sandbox's lookup need
// not list tens of thousands of entries to find one written behind the
// store's back. The kernel queues an event as part of the create or
// rename itself, so draining the queue before answering sees every name
// written before the lookup began: no window in which an entry is missed.
type watcher struct {
	fd  int
	buf []byte
}

// openWatch starts watching dir for names created in or moved into it.
func openWatch(dir string) (*watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, err
	}
	const mask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ONLYDIR | unix.IN_DONT_FOLLOW
	if _, err := unix.InotifyAddWatch(fd, dir, mask); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return &watcher{fd: fd, buf: make([]byte, 64<<10)}, nil
}

// drain hands add the name of every event queued so far. It reports false
// when the queue overflowed, the directory went away or was moved, or the
// read failed: the names it reported are then incomplete, and the caller
// must list the directory again under a new watch.
func (w *watcher) drain(add func(name string)) bool {
	for {
		n, err := unix.Read(w.fd, w.buf)
		if errors.Is(err, unix.EAGAIN) {
			return true
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&w.buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if ev.Mask&(unix.IN_Q_OVERFLOW|unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF) != 0 {
				return false
			}
			if name := cString(w.buf[off+unix.SizeofInotifyEvent : end]); name != "" && name[0] != '.' {
				add(name)
			}
			off = end
		}
	}
}

// cString returns b up to its first NUL: the kernel pads names with them.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func (w *watcher) close() { unix.Close(w.fd) }
