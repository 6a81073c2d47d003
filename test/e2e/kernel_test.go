//go:build linux

package e2e

import (
	"errors"
	"net"
	"os/exec"
	"sort"
	"strings"
	"testing"

	current "github.com/containernetworking/cni/pkg/types/100"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/netplumb/ocicni/ocicni"
)

// handleIn opens a netlink handle inside the namespace at path; the
// calling thread never changes namespace. Callers close it at once: an
// open handle keeps a deleted namespace alive.
func handleIn(tb testing.TB, path string) *netlink.Handle {
	tb.Helper()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		tb.Fatalf("opening netns %s: %v", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		tb.Fatalf("netlink handle in %s: %v", path, err)
	}
	return h
}

// podLink returns the link named ifname inside the pod's netns, or nil.
func podLink(tb testing.TB, nsPath, ifname string) netlink.Link {
	tb.Helper()
	h := handleIn(tb, nsPath)
	defer h.Close()
	l, err := h.LinkByName(ifname)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		tb.Fatalf("looking up %s in %s: %v", ifname, nsPath, err)
	}
	return l
}

// kernelAddrs returns the global addresses (CIDR form, sorted) the kernel
// shows on ifname inside the pod's netns.
func kernelAddrs(tb testing.TB, nsPath, ifname string) []string {
	tb.Helper()
	h := handleIn(tb, nsPath)
	defer h.Close()
	l, err := h.LinkByName(ifname)
	if err != nil {
		tb.Fatalf("%s in %s: %v", ifname, nsPath, err)
	}
	addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, a := range addrs {
		if a.Scope == unix.RT_SCOPE_UNIVERSE {
			out = append(out, a.IPNet.String())
		}
	}
	sort.Strings(out)
	return out
}

// resultAddrs returns the addresses (CIDR form, sorted) a result gives the
// pod-side interface it was attached as.
func resultAddrs(tb testing.TB, r ocicni.NetResult) []string {
	tb.Helper()
	res := asCurrent(tb, r)
	var out []string
	for _, ip := range res.IPs {
		if ip.Interface == nil || *ip.Interface >= len(res.Interfaces) {
			tb.Fatalf("result of %s: address %s names no interface", r.Name, ip.Address.String())
		}
		if iface := res.Interfaces[*ip.Interface]; iface.Sandbox != "" && iface.Name == r.Ifname {
			out = append(out, ip.Address.String())
		}
	}
	sort.Strings(out)
	return out
}

// resultIP returns the single address a result gives the pod.
func resultIP(tb testing.TB, r ocicni.NetResult) string {
	tb.Helper()
	addrs := resultAddrs(tb, r)
	if len(addrs) != 1 {
		tb.Fatalf("result of %s/%s: want one address, got %v", r.Name, r.Ifname, addrs)
	}
	ip, _, _ := net.ParseCIDR(addrs[0])
	return ip.String()
}

// hostVeth returns the host-side interface the bridge plugin reported: the
// one outside any sandbox that is not the bridge.
func hostVeth(tb testing.TB, r ocicni.NetResult, bridge string) string {
	tb.Helper()
	for _, iface := range asCurrent(tb, r).Interfaces {
		if iface.Sandbox == "" && iface.Name != bridge {
			return iface.Name
		}
	}
	tb.Fatalf("result of %s reports no host-side veth", r.Name)
	return ""
}

func asCurrent(tb testing.TB, r ocicni.NetResult) *current.Result {
	tb.Helper()
	if r.Result == nil {
		tb.Fatalf("network %s/%s has no result", r.Name, r.Ifname)
	}
	res, err := current.NewResultFromResult(r.Result)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// hostLinkExists reports whether a link exists in the sandbox's own
// network namespace (where the bridges and host-side veths live).
func hostLinkExists(tb testing.TB, name string) bool {
	tb.Helper()
	_, err := netlink.LinkByName(name)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		tb.Fatal(err)
	}
	return true
}

// bridgePorts lists the links enslaved to the bridge.
func bridgePorts(tb testing.TB, bridge string) []string {
	tb.Helper()
	br, err := netlink.LinkByName(bridge)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		tb.Fatal(err)
	}
	links, err := netlink.LinkList()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, l := range links {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// requireFirewall skips unless portmap has a firewall tool to drive.
func requireFirewall(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("iptables"); err == nil {
		return
	}
	if _, err := exec.LookPath("nft"); err == nil {
		return
	}
	tb.Skip("skipped: portmap needs iptables or nft in PATH (.ci/run installs both)")
}

// firewallRules dumps the sandbox namespace's NAT rules from every tool
// present, so the check holds whichever backend portmap picked.
func firewallRules(tb testing.TB) string {
	tb.Helper()
	var b strings.Builder
	for _, c := range [][]string{{"iptables-save", "-t", "nat"}, {"nft", "list", "ruleset"}} {
		if _, err := exec.LookPath(c[0]); err != nil {
			continue
		}
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		if err != nil {
			tb.Fatalf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
		b.Write(out)
	}
	return b.String()
}
