package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// row is one address of one pod interface, as status reports it.
type row struct {
	pod, ifname, ip, cidr, gateway, mac string
}

// statusRows asks the library for each pod's status and flattens it.
func statusRows(ctx context.Context, p *ocicni.Plugin, pods []ocicni.PodNetwork) ([]row, error) {
	var rows []row
	for _, pod := range pods {
		results, err := p.GetPodNetworkStatusWithContext(ctx, ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS})
		if err != nil {
			return nil, fmt.Errorf("status of %s: %w", pod.Name, err)
		}
		for _, nr := range results {
			res, err := current.NewResultFromResult(nr.Result)
			if err != nil {
				return nil, err
			}
			for _, ip := range res.IPs {
				if ip.Interface == nil || *ip.Interface >= len(res.Interfaces) || res.Interfaces[*ip.Interface].Sandbox == "" {
					continue
				}
				gw := "-"
				if ip.Gateway != nil {
					gw = ip.Gateway.String()
				}
				rows = append(rows, row{
					pod: pod.Name, ifname: nr.Ifname, ip: ip.Address.IP.String(), cidr: ip.Address.String(),
					gateway: gw, mac: res.Interfaces[*ip.Interface].Mac,
				})
			}
		}
	}
	if len(rows) == 0 {
		return nil, errors.New("status reported no pod addresses")
	}
	return rows, nil
}

// addressOf returns the first IPv4 address status reported for a pod.
func addressOf(rows []row, pod string) (string, error) {
	for _, r := range rows {
		if r.pod == pod && !strings.Contains(r.ip, ":") {
			return r.ip, nil
		}
	}
	return "", fmt.Errorf("status reported no IPv4 address for %s", pod)
}

func printTable(w io.Writer, rows []row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "POD\tINTERFACE\tADDRESS\tGATEWAY\tMAC")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.pod, r.ifname, r.cidr, r.gateway, r.mac)
	}
	tw.Flush()
}

// reportLeftovers counts what the pods could have left behind — veths,
// host-local address reservations, libcni cache files — and fails unless
// all are zero.
func reportLeftovers(p *ocicni.Plugin) error {
	// The bridge plugin puts the host side of each pod's veth pair in the
	// sandbox's own namespace.
	veths, err := sandbox.CountLinks("veth")
	if err != nil {
		return err
	}
	reserved := 0
	for _, n := range p.Networks().Networks {
		c, err := countReservations(n.File, n.Name)
		if err != nil {
			return err
		}
		reserved += c
	}
	cached, err := countFiles(filepath.Join(cacheDir, "results"), nil)
	if err != nil {
		return err
	}
	fmt.Printf("left behind   %d veths, %d address reservations, %d cache files", veths, reserved, cached)
	if veths+reserved+cached != 0 {
		fmt.Println()
		return errors.New("teardown left resources behind")
	}
	fmt.Println(": nothing")
	return nil
}

// countReservations counts host-local's reservations for every host-local
// plugin of the network in file.
func countReservations(file, netName string) (int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return 0, err
	}
	var conf struct {
		Plugins []struct {
			IPAM struct {
				Type    string `json:"type"`
				DataDir string `json:"dataDir"`
			} `json:"ipam"`
		} `json:"plugins"`
	}
	if err := json.Unmarshal(data, &conf); err != nil {
		return 0, fmt.Errorf("%s: %w", file, err)
	}
	total := 0
	for _, pl := range conf.Plugins {
		if pl.IPAM.Type != "host-local" {
			continue
		}
		dir := pl.IPAM.DataDir
		if dir == "" {
			dir = "/var/lib/cni/networks"
		}
		n, err := countFiles(filepath.Join(dir, netName), func(name string) bool {
			return name == "lock" || strings.HasPrefix(name, "last_reserved_ip.")
		})
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// countFiles counts the entries of dir that skip does not exclude; a
// missing dir holds none.
func countFiles(dir string, skip func(string) bool) (int, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range entries {
		if skip == nil || !skip(e.Name()) {
			n++
		}
	}
	return n, nil
}
