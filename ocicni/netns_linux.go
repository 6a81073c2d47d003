package ocicni

import (
	"errors"
	"fmt"
	"net"
	"os"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// checkNetNS verifies that path is a network namespace, so a wrong path is
// refused before any plugin runs rather than failing inside one.
func checkNetNS(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	defer f.Close()
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return fmt.Errorf("network namespace %s: %w", path, err)
	}
	if fs.Type != unix.NSFS_MAGIC && fs.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s is not a namespace file", path)
	}
	t, err := unix.IoctlRetInt(int(f.Fd()), unix.NS_GET_NSTYPE)
	switch {
	case err == nil && t != unix.CLONE_NEWNET:
		return fmt.Errorf("%s is a namespace but not a network namespace", path)
	case err == nil:
		return nil
	case errors.Is(err, unix.ENOTTY) && fs.Type == unix.NSFS_MAGIC:
		// nsfs without NS_GET_NSTYPE (kernels 3.19 to 4.10): the file is
		// a namespace, of a type that cannot be asked.
		return nil
	default:
		// Any other procfs file, /proc/self/status for one, lands here.
		return fmt.Errorf("%s is not a namespace file: %w", path, err)
	}
}

// handleAt opens a netlink socket inside the namespace at path. The socket
// is created there once and used from any thread, so no goroutine ever
// switches namespaces and nothing is exec'd. Only the route family is
// opened: netlink's default opens xfrm and netfilter sockets too, each
// costing two namespace switches, which tripled the in-process cost of a
// setup.
func handleAt(path string) (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, err
	}
	defer ns.Close()
	return netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
}

// bringUpLoopback sets lo up inside the pod's network namespace.
func bringUpLoopback(path string) error {
	h, err := handleAt(path)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	if lo.Attrs().Flags&net.FlagUp != 0 {
		return nil
	}
	return h.LinkSetUp(lo)
}

// readNetNSResult builds a CNI result from what the kernel shows for ifname
// inside the namespace at path: its MAC and global addresses.
func readNetNSResult(path, ifname, cniVersion string) (cnitypes.Result, error) {
	if path == "" {
		return nil, errors.New("no network namespace path")
	}
	h, err := handleAt(path)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if err != nil {
		return nil, err
	}
	addrs, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	res := &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		Interfaces: []*current.Interface{{Name: ifname, Mac: link.Attrs().HardwareAddr.String(), Sandbox: path}},
	}
	iface := 0
	for _, a := range addrs {
		if a.Scope != unix.RT_SCOPE_UNIVERSE || a.IPNet == nil {
			continue
		}
		res.IPs = append(res.IPs, &current.IPConfig{Interface: &iface, Address: *a.IPNet})
	}
	if cniVersion == "" || cniVersion == res.CNIVersion {
		return res, nil
	}
	return res.GetAsVersion(cniVersion)
}
