package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/netplumb/ocicni/ocicni"
)

func listVerb() *verb {
	return &verb{
		name: "list", args: "", minArgs: 0, maxArgs: 0,
		summary: "list the networks, the default, and skipped files with reasons",
		help: `
Networks are listed in file order; the default is marked. Files that were
not loaded are listed with the reason, in words an operator can act on.`,
		run: runList,
	}
}

func runList(_ context.Context, inv *invocation) error {
	p, err := inv.newPlugin(false)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	return inv.emit(newListReport(p.Networks()))
}

// listReport is the loaded configuration.
type listReport struct {
	ConfDir  string        `json:"conf_dir"`
	Default  string        `json:"default"`
	Networks []networkView `json:"networks"`
	Skipped  []skippedView `json:"skipped"`
}

// networkView is one loaded network.
type networkView struct {
	Name         string   `json:"name"`
	File         string   `json:"file"`
	CNIVersion   string   `json:"cni_version"`
	PluginTypes  []string `json:"plugin_types"`
	Default      bool     `json:"default"`
	DisableCheck bool     `json:"disable_check"`
	DisableGC    bool     `json:"disable_gc"`
}

// skippedView is one file that was not loaded.
type skippedView struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

func newNetworkView(n ocicni.NetworkInfo) networkView {
	return networkView{
		Name: n.Name, File: n.File, CNIVersion: n.CNIVersion, PluginTypes: append([]string{}, n.PluginTypes...),
		Default: n.Default, DisableCheck: n.DisableCheck, DisableGC: n.DisableGC,
	}
}

func newListReport(set ocicni.NetworkSet) *listReport {
	r := &listReport{ConfDir: set.ConfDir, Default: set.Default, Networks: []networkView{}, Skipped: []skippedView{}}
	for _, n := range set.Networks {
		r.Networks = append(r.Networks, newNetworkView(n))
	}
	for _, s := range set.Skipped {
		r.Skipped = append(r.Skipped, skippedView{File: s.File, Reason: s.Reason})
	}
	return r
}

func (r *listReport) writeText(w io.Writer) error {
	if len(r.Networks) == 0 {
		fmt.Fprintf(w, "no networks loaded from %s\n", r.ConfDir)
	} else {
		t := newTable(w)
		fmt.Fprintln(t, "NAME\tDEFAULT\tCNIVERSION\tPLUGINS\tFILE")
		for _, n := range r.Networks {
			def := ""
			if n.Default {
				def = "*"
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\t%s\n", n.Name, def, n.CNIVersion, strings.Join(n.PluginTypes, ","), n.File)
		}
		if err := t.Flush(); err != nil {
			return err
		}
	}
	if len(r.Skipped) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	t := newTable(w)
	fmt.Fprintln(t, "SKIPPED FILE\tREASON")
	for _, s := range r.Skipped {
		fmt.Fprintf(t, "%s\t%s\n", s.File, s.Reason)
	}
	return t.Flush()
}
