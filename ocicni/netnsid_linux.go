package ocicni

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// runtimeNetNS is the path of the runtime's own network namespace.
const runtimeNetNS = "/proc/self/ns/net"

// soNetNSCookie is SO_NETNS_COOKIE (Linux 5.14; asm-generic value, which
// x86, arm and the others without a socket.h of their own use).
const soNetNSCookie = 71

// netnsInode returns the device and inode of the namespace at path, which
// tell two namespaces alive at the same time apart.
func netnsInode(path string) (string, bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return "", false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), true
}

// netnsIdentity returns what tells the namespace at path from every other,
// also one made later at the same path: its inode and, where the kernel
// has them, its cookie, which is never reused (inode numbers are). "" when
// path is no namespace.
func netnsIdentity(path string) string {
	// A file left where a namespace was (CRI-O's tests make one) is no
	// namespace: its inode must not pass for one's.
	if checkNetNS(path) != nil {
		return ""
	}
	ino, ok := netnsInode(path)
	if !ok {
		return ""
	}
	if c, ok := netnsCookie(path); ok {
		return fmt.Sprintf("%s:%d", ino, c)
	}
	return ino
}

// netnsCookie returns the cookie of the namespace at path, read from a
// socket made inside it. That runs on a goroutine of its own whose thread
// returns to the runtime's namespace, or, if it cannot, stays locked so
// the runtime ends it rather than reuse a thread in the wrong namespace.
func netnsCookie(path string) (uint64, bool) {
	type answer struct {
		cookie uint64
		ok     bool
	}
	done := make(chan answer, 1)
	go func() {
		c, ok := cookieOnLockedThread(path)
		done <- answer{c, ok}
	}()
	a := <-done
	return a.cookie, a.ok
}

func cookieOnLockedThread(path string) (uint64, bool) {
	target, err := netns.GetFromPath(path)
	if err != nil {
		return 0, false
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return 0, false
	}
	defer orig.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return 0, false
	}
	fd, sockErr := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err := netns.Set(orig); err != nil {
		if sockErr == nil {
			unix.Close(fd)
		}
		return 0, false
	}
	runtime.UnlockOSThread()
	if sockErr != nil {
		return 0, false
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, soNetNSCookie)
	return c, err == nil
}

// isRuntimeNetNS reports whether path leads to the runtime's own network
// namespace, however it is named: /proc/self/ns/net, a symlink to it, a
// bind mount of it or another process's path into it. The runtime's
// namespace is read from the calling thread, not from /proc/self, which
// names the main thread: that one may be running a goroutine locked into
// a pod's namespace (netnsCookie, netlink) at that instant, while the
// calling thread cannot be.
func isRuntimeNetNS(path string) bool {
	own, ok := netnsInode("/proc/thread-self/ns/net")
	if !ok {
		if own, ok = netnsInode(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid())); !ok {
			return false
		}
	}
	// /proc/self names the main thread too, so a caller's
	// /proc/self/ns/net would lead to a pod's namespace while the main
	// thread visits it; the caller means the runtime's, the one its own
	// thread is in.
	for _, self := range []string{"/proc/self/", fmt.Sprintf("/proc/%d/", os.Getpid())} {
		if rest, ok := strings.CutPrefix(path, self); ok {
			path = "/proc/thread-self/" + rest
		}
	}
	ino, ok := netnsInode(path)
	return ok && ino == own
}
