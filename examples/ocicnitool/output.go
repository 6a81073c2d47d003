package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	current "github.com/containernetworking/cni/pkg/types/100"

	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/netselect"
)

// report is what a verb prints: a table for people, or JSON whose keys
// are lower case and stable.
type report interface {
	writeText(w io.Writer) error
}

// emit prints r as JSON (indented) or as text, with --timings followed by
// the operation's breakdown (in JSON, under "timings").
func (inv *invocation) emit(r report) error {
	if inv.json {
		var doc any = r
		if inv.spans != nil {
			var err error
			if doc, err = withTimings(r, inv.spans.tree()); err != nil {
				return err
			}
		}
		enc := json.NewEncoder(inv.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	if err := r.writeText(inv.stdout); err != nil || inv.spans == nil {
		return err
	}
	fmt.Fprintln(inv.stdout)
	return writeTimings(inv.stdout, inv.spans.tree())
}

// newTable returns a writer that aligns tab-separated columns; the caller
// flushes it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
}

// orDash keeps empty table cells visible.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// podReport is the outcome of add, check and status: one sandbox's
// attachments.
type podReport struct {
	Sandbox     string           `json:"sandbox"`
	NetNS       string           `json:"netns"`
	Attachments []attachmentView `json:"attachments"`
	// NetworkStatus is the k8s.v1.cni.cncf.io/network-status annotation
	// of an add with --networks-annotation.
	NetworkStatus json.RawMessage `json:"network_status,omitempty"`
}

// attachmentView is one attachment with its addresses.
type attachmentView struct {
	Network   string        `json:"network"`
	Ifname    string        `json:"ifname"`
	MAC       string        `json:"mac,omitempty"`
	Addresses []addressView `json:"addresses"`
	// Check says whether CHECK ran and passed (check only).
	Check string `json:"check,omitempty"`
	// Result is the CNI result as the plugins returned it, converted to
	// the current spec version.
	Result json.RawMessage `json:"result,omitempty"`
}

// addressView is one address of an attachment.
type addressView struct {
	Address string `json:"address"`
	Gateway string `json:"gateway,omitempty"`
}

// newPodReport summarises the library's results for one sandbox.
func newPodReport(pod ocicni.PodNetwork, results []ocicni.NetResult) (*podReport, error) {
	r := &podReport{Sandbox: pod.ID, NetNS: pod.NetNS, Attachments: []attachmentView{}}
	for _, nr := range results {
		av, err := newAttachmentView(nr)
		if err != nil {
			return nil, err
		}
		r.Attachments = append(r.Attachments, av)
	}
	return r, nil
}

// newAttachmentView picks the interface inside the pod named like the
// attachment, and the addresses on it (or on no interface in particular).
func newAttachmentView(nr ocicni.NetResult) (attachmentView, error) {
	av := attachmentView{Network: nr.Name, Ifname: nr.Ifname, Addresses: []addressView{}}
	if nr.Result == nil {
		return av, nil
	}
	res, err := current.NewResultFromResult(nr.Result)
	if err != nil {
		return av, fmt.Errorf("network %q: reading the plugin's result: %w", nr.Name, err)
	}
	if av.Result, err = json.Marshal(res); err != nil {
		return av, err
	}
	podIf := -1
	for i, iface := range res.Interfaces {
		if iface.Sandbox != "" && (podIf < 0 || iface.Name == nr.Ifname) {
			podIf = i
		}
	}
	if podIf >= 0 {
		av.MAC = res.Interfaces[podIf].Mac
	}
	for _, ip := range res.IPs {
		if ip.Interface != nil && *ip.Interface != podIf {
			continue
		}
		a := addressView{Address: ip.Address.String()}
		if ip.Gateway != nil {
			a.Gateway = ip.Gateway.String()
		}
		av.Addresses = append(av.Addresses, a)
	}
	return av, nil
}

func (r *podReport) writeText(w io.Writer) error {
	fmt.Fprintf(w, "sandbox %s  netns %s\n", r.Sandbox, r.NetNS)
	withCheck := false
	for _, a := range r.Attachments {
		withCheck = withCheck || a.Check != ""
	}
	t := newTable(w)
	header := "NETWORK\tIFNAME\tADDRESS\tGATEWAY\tMAC"
	if withCheck {
		header += "\tCHECK"
	}
	fmt.Fprintln(t, header)
	for _, a := range r.Attachments {
		addrs := a.Addresses
		if len(addrs) == 0 {
			addrs = []addressView{{}}
		}
		for _, ad := range addrs {
			row := strings.Join([]string{a.Network, a.Ifname, orDash(ad.Address), orDash(ad.Gateway), orDash(a.MAC)}, "\t")
			if withCheck {
				row += "\t" + orDash(a.Check)
			}
			fmt.Fprintln(t, row)
		}
	}
	if err := t.Flush(); err != nil {
		return err
	}
	if len(r.NetworkStatus) > 0 {
		_, err := fmt.Fprintf(w, "\n%s: %s\n", netselect.NetworkStatusAnnotation, r.NetworkStatus)
		return err
	}
	return nil
}

// delReport is the outcome of del.
type delReport struct {
	Sandbox string `json:"sandbox"`
	NetNS   string `json:"netns"`
	Network string `json:"network"`
	Ifname  string `json:"ifname"`
	Deleted bool   `json:"deleted"`
	// Networks lists every network detached, NETWORK first; it has more
	// than one entry only with --networks-annotation.
	Networks []delNetwork `json:"networks,omitempty"`
}

// delNetwork is one network del detached.
type delNetwork struct {
	Network string `json:"network"`
	Ifname  string `json:"ifname"`
}

// newDelReport reports the teardown of pod's networks.
func newDelReport(pod ocicni.PodNetwork) *delReport {
	r := &delReport{Sandbox: pod.ID, NetNS: pod.NetNS, Network: pod.Networks[0].Name, Ifname: pod.Networks[0].Ifname, Deleted: true}
	for _, n := range pod.Networks {
		r.Networks = append(r.Networks, delNetwork{Network: n.Name, Ifname: n.Ifname})
	}
	return r
}

func (r *delReport) writeText(w io.Writer) error {
	networks := r.Networks
	if len(networks) == 0 {
		networks = []delNetwork{{Network: r.Network, Ifname: r.Ifname}}
	}
	for _, n := range networks {
		if _, err := fmt.Fprintf(w, "deleted network %s (ifname %s) from sandbox %s  netns %s\n", n.Network, n.Ifname, r.Sandbox, r.NetNS); err != nil {
			return err
		}
	}
	return nil
}
