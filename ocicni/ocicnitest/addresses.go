package ocicnitest

import (
	"fmt"
	"net"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	current "github.com/containernetworking/cni/pkg/types/100"
)

// Host numbers a network hands out: .1 is the gateway, .255 broadcast.
const (
	firstHost = 2
	lastHost  = 254
)

// pool is the address range of one network. The n-th network the fake
// ever knew (counting from 0) owns 10.(88+n/256).(n%256).0/24, so a name
// keeps its subnet when SetNetworks reorders or drops networks.
type pool struct {
	n    int
	used map[int]bool // host numbers in use
}

func (pl *pool) ip(host int) net.IP {
	return net.IPv4(10, byte(88+pl.n/256), byte(pl.n%256), byte(host)).To4()
}

// subnet returns the network's /24.
func (pl *pool) subnet() *net.IPNet {
	return &net.IPNet{IP: pl.ip(0), Mask: net.CIDRMask(24, 32)}
}

// take reserves the lowest free host number.
func (pl *pool) take(network string) (int, error) {
	for h := firstHost; h <= lastHost; h++ {
		if !pl.used[h] {
			pl.used[h] = true
			return h, nil
		}
	}
	return 0, &cnitypes.Error{Code: cnitypes.ErrTryAgainLater, Msg: fmt.Sprintf("no free address left in %s for network %q", pl.subnet(), network)}
}

func (pl *pool) release(host int) { delete(pl.used, host) }

// result is the CNI result of an attachment with host number host: one
// interface in the pod's netns, its address with the gateway, and a
// default route. The MAC is 02:00 followed by the IPv4 address, so it is
// as predictable as the address. Each call builds a fresh result, so a
// caller changing one cannot change what the fake reports later.
func (pl *pool) result(host int, ifname, netns string) *current.Result {
	ip, gw := pl.ip(host), pl.ip(1)
	mac := net.HardwareAddr{0x02, 0x00, ip[0], ip[1], ip[2], ip[3]}
	iface := 0
	return &current.Result{
		CNIVersion: current.ImplementedSpecVersion,
		Interfaces: []*current.Interface{{Name: ifname, Mac: mac.String(), Sandbox: netns}},
		IPs: []*current.IPConfig{{
			Interface: &iface,
			Address:   net.IPNet{IP: ip, Mask: net.CIDRMask(24, 32)},
			Gateway:   gw,
		}},
		Routes: []*cnitypes.Route{{Dst: net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}, GW: gw}},
	}
}
