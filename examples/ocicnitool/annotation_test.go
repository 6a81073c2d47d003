package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// add --networks-annotation attaches the default network and the selected
// one, the kernel has both interfaces, and the status annotation reports
// them in selection order; del of each network removes it.
func TestE2EAddWithNetworksAnnotation(t *testing.T) {
	e := newE2E(t)
	pod := e.netns("annot")
	e.writeConf(e.confDir, "10-main.conflist", e.bridgeConf("mainnet", "annbr0", "10.78.0.0/24"))
	e.writeConf(e.confDir, "20-extra.conflist", e.bridgeConf("extranet", "annbr1", "10.78.1.0/24"))

	r := e.run("add", "--json", e.cache(), "--networks-annotation", "extranet@data0", "mainnet", pod).want(t, exitOK)
	var rep podReport
	decodeJSON(t, r.stdout, &rep)
	var status []struct {
		Name      string   `json:"name"`
		Interface string   `json:"interface"`
		IPs       []string `json:"ips"`
		Default   bool     `json:"default"`
	}
	if err := json.Unmarshal(rep.NetworkStatus, &status); err != nil {
		t.Fatalf("network_status %q: %v", rep.NetworkStatus, err)
	}
	if len(status) != 2 || status[0].Name != "mainnet" || status[0].Interface != "eth0" || !status[0].Default ||
		status[1].Name != "extranet" || status[1].Interface != "data0" {
		t.Fatalf("network-status = %+v", status)
	}
	for _, s := range status {
		if len(s.IPs) != 1 || !strings.Contains(kernelAddrs(t, pod, s.Interface), "inet "+s.IPs[0]+"/") {
			t.Fatalf("the kernel does not show %v on %s", s.IPs, s.Interface)
		}
	}
	e.run("del", e.cache(), "extranet", pod, "--ifname", "data0").want(t, exitOK)
	e.run("del", e.cache(), "mainnet", pod).want(t, exitOK)
	for _, ifname := range []string{"eth0", "data0"} {
		if got := kernelAddrs(t, pod, ifname); got != "" {
			t.Fatalf("%s still there after del: %q", ifname, got)
		}
	}
}

// del with the annotation add was given undoes that add: every selected
// network is detached, not only NETWORK, and host-local keeps no
// reservation of either.
func TestE2EDelWithNetworksAnnotationUndoesAdd(t *testing.T) {
	e := newE2E(t)
	pod := e.netns("annotdel")
	e.writeConf(e.confDir, "10-main.conflist", e.bridgeConf("mainnet", "anndel0", "10.79.0.0/24"))
	e.writeConf(e.confDir, "20-extra.conflist", e.bridgeConf("extranet", "anndel1", "10.79.1.0/24"))
	const annotation = "extranet@data0"

	r := e.run("add", "--json", e.cache(), "--networks-annotation", annotation, "mainnet", pod).want(t, exitOK)
	var rep podReport
	decodeJSON(t, r.stdout, &rep)
	addrs := map[string]string{}
	for _, a := range rep.Attachments {
		if len(a.Addresses) != 1 {
			t.Fatalf("add reported %+v", rep)
		}
		addrs[a.Network] = a.Addresses[0].Address
	}
	if len(addrs) != 2 {
		t.Fatalf("add attached %v, want mainnet and extranet", addrs)
	}

	d := e.run("del", e.cache(), "--networks-annotation", annotation, "mainnet", pod).want(t, exitOK)
	for _, want := range []string{"deleted network mainnet (ifname eth0)", "deleted network extranet (ifname data0)"} {
		if !strings.Contains(d.stdout, want) {
			t.Errorf("del says %q, want a line %q", d.stdout, want)
		}
	}
	for _, ifname := range []string{"eth0", "data0"} {
		if got := kernelAddrs(t, pod, ifname); got != "" {
			t.Errorf("%s still there after del with the annotation: %q", ifname, got)
		}
	}
	for network, addr := range addrs {
		if e.reserved(network, addr) {
			t.Errorf("host-local still reserves %s of %s after del with the annotation", addr, network)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(e.cacheDir, "results")); len(entries) != 0 {
		t.Errorf("result cache still holds %d entries after del with the annotation", len(entries))
	}
}
