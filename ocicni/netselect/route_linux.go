package netselect

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// setDefaultRoutes makes each route the only default route of its family
// in the main table of the namespace at nsPath. The calling thread never
// enters the namespace: a netlink handle opened on it does the work.
func setDefaultRoutes(nsPath string, routes []route) error {
	ns, err := netns.GetFromPath(nsPath)
	if err != nil {
		return fmt.Errorf("default route: opening netns %s: %w", nsPath, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return fmt.Errorf("default route: netlink in %s: %w", nsPath, err)
	}
	defer h.Close()
	for _, r := range routes {
		if err := setDefaultRoute(h, r); err != nil {
			return fmt.Errorf("default route via %s on %s (network %q) in %s: %w", r.gw, r.ifname, r.network, nsPath, err)
		}
	}
	return nil
}

// setDefaultRoute replaces the default route of r's family (so the pod is
// never without one while other routes go), then deletes every other.
func setDefaultRoute(h *netlink.Handle, r route) error {
	link, err := h.LinkByName(r.ifname)
	if err != nil {
		return err
	}
	fam, dst := unix.AF_INET6, &net.IPNet{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)}
	if r.gw.To4() != nil {
		fam, dst = unix.AF_INET, &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}
	}
	want := netlink.Route{LinkIndex: link.Attrs().Index, Dst: dst, Gw: r.gw, Table: unix.RT_TABLE_MAIN}
	if err := h.RouteReplace(&want); err != nil {
		return err
	}
	existing, err := h.RouteListFiltered(fam, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return err
	}
	for _, rt := range existing {
		if !isDefault(rt) || (rt.LinkIndex == want.LinkIndex && rt.Gw.Equal(r.gw)) {
			continue
		}
		if err := h.RouteDel(&rt); err != nil {
			return fmt.Errorf("removing the default route via %s: %w", rt.Gw, err)
		}
	}
	return nil
}

// isDefault reports whether rt has a zero-length destination; netlink
// reports a default route with either a nil or a /0 destination.
func isDefault(rt netlink.Route) bool {
	if rt.Dst == nil {
		return true
	}
	ones, _ := rt.Dst.Mask.Size()
	return ones == 0
}
