package sandbox

import (
	"fmt"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// CreateNetNS creates a network namespace bound at /run/netns/name, as a
// runtime does for each pod sandbox, and returns that path. The calling
// goroutine's thread is in the new namespace only for the length of the
// call.
func CreateNetNS(name string) (string, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return "", err
	}
	defer orig.Close()
	h, err := netns.NewNamed(name)
	if err != nil {
		_ = netns.Set(orig)
		return "", err
	}
	h.Close()
	return filepath.Join("/run/netns", name), netns.Set(orig)
}

// DeleteNetNS removes the namespace CreateNetNS made under name; the
// kernel frees it once no process or open handle holds it.
func DeleteNetNS(name string) error { return netns.DeleteNamed(name) }

// InNetNS runs fn on a goroutine whose thread has entered the namespace at
// path, and returns fn's error. Sockets fn creates stay in that namespace
// after it returns. If the thread cannot be moved back it is left locked,
// so Go discards it rather than reuse a thread in the wrong namespace.
func InNetNS(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		target, err := netns.GetFromPath(path)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("returning from %s: %w", path, err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// CountLinks counts the links of the given kind (as netlink names it, for
// example "veth" or "bridge") in the calling thread's network namespace.
func CountLinks(kind string) (int, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range links {
		if l.Type() == kind {
			n++
		}
	}
	return n, nil
}
