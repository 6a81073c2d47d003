package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

func watchVerb() *verb {
	return &verb{
		name: "watch", args: "", minArgs: 0, maxArgs: 0,
		summary: "print each configuration change as it happens",
		help: `
First prints what is loaded, then one line per change: a network added,
removed or changed, a new default, a file skipped or no longer skipped.
With --json each line is a JSON object. Runs until SIGINT or SIGTERM, or
until --timeout, and then exits 0.`,
		run: runWatch,
	}
}

// change is one difference between two views of the configuration. Event
// is "watching" (the first line), "added", "removed", "changed",
// "default", "skipped", "unskipped" or "reloaded" (a file's contents
// changed in a way the other events do not show).
type change struct {
	Time    time.Time    `json:"time"`
	Event   string       `json:"event"`
	Network *networkView `json:"network,omitempty"`
	File    string       `json:"file,omitempty"`
	Reason  string       `json:"reason,omitempty"`
	// Default is the default network after the change ("" for none).
	Default string `json:"default"`
	// ConfDir, Networks and Skipped describe the "watching" line.
	ConfDir  string `json:"conf_dir,omitempty"`
	Networks *int   `json:"networks,omitempty"`
	Skipped  *int   `json:"skipped,omitempty"`
}

func runWatch(ctx context.Context, inv *invocation) error {
	p, err := inv.newPlugin(true)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	set := p.Networks()
	nets, skipped := len(set.Networks), len(set.Skipped)
	first := change{Time: time.Now(), Event: "watching", Default: set.Default, ConfDir: set.ConfDir, Networks: &nets, Skipped: &skipped}
	if err := inv.writeChange(first); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			// Interrupted or out of time: both are how watch ends.
			return nil
		case <-set.Changed:
		}
		next := p.Networks()
		changes := diffSets(set, next, time.Now())
		if len(changes) == 0 {
			// The view closes Changed for edits it does not show, such
			// as a new subnet in a file that stays loaded.
			changes = []change{{Time: time.Now(), Event: "reloaded", Default: next.Default}}
		}
		for _, c := range changes {
			if err := inv.writeChange(c); err != nil {
				return err
			}
		}
		set = next
	}
}

// writeChange prints one change as a line of text or of JSON.
func (inv *invocation) writeChange(c change) error {
	if inv.json {
		return json.NewEncoder(inv.stdout).Encode(c)
	}
	_, err := io.WriteString(inv.stdout, c.text()+"\n")
	return err
}

// text renders a change as one line.
func (c change) text() string {
	ts := c.Time.Format("15:04:05.000")
	def := c.Default
	if def == "" {
		def = "(none)"
	}
	switch c.Event {
	case "watching":
		return fmt.Sprintf("%s watching %s: %d networks, %d skipped files, default %s", ts, c.ConfDir, *c.Networks, *c.Skipped, def)
	case "added", "removed", "changed":
		n := c.Network
		return fmt.Sprintf("%s %s network %s from %s (cniVersion %s, plugins %s)", ts, c.Event, n.Name, n.File, n.CNIVersion, strings.Join(n.PluginTypes, ","))
	case "default":
		return fmt.Sprintf("%s default network is now %s", ts, def)
	case "skipped":
		return fmt.Sprintf("%s skipped %s: %s", ts, c.File, c.Reason)
	case "unskipped":
		return fmt.Sprintf("%s no longer skipped %s", ts, c.File)
	case "reloaded":
		return fmt.Sprintf("%s reloaded: a configuration file's contents changed", ts)
	}
	return fmt.Sprintf("%s %s", ts, c.Event)
}

// diffSets lists what changed from old to cur: networks removed, added
// and changed (by name), skipped files gone and new (by file, a changed
// reason counting as new), and the default last.
func diffSets(old, cur ocicni.NetworkSet, now time.Time) []change {
	var out []change
	emit := func(c change) {
		c.Time, c.Default = now, cur.Default
		out = append(out, c)
	}
	byName := func(ns []ocicni.NetworkInfo, name string) (ocicni.NetworkInfo, bool) {
		i := slices.IndexFunc(ns, func(n ocicni.NetworkInfo) bool { return n.Name == name })
		if i < 0 {
			return ocicni.NetworkInfo{}, false
		}
		return ns[i], true
	}
	for _, n := range old.Networks {
		if _, ok := byName(cur.Networks, n.Name); !ok {
			v := newNetworkView(n)
			emit(change{Event: "removed", Network: &v})
		}
	}
	for _, n := range cur.Networks {
		prev, ok := byName(old.Networks, n.Name)
		v := newNetworkView(n)
		switch {
		case !ok:
			emit(change{Event: "added", Network: &v})
		case networkChanged(prev, n):
			emit(change{Event: "changed", Network: &v})
		}
	}
	reason := func(ss []ocicni.SkippedFile, file string) (string, bool) {
		i := slices.IndexFunc(ss, func(s ocicni.SkippedFile) bool { return s.File == file })
		if i < 0 {
			return "", false
		}
		return ss[i].Reason, true
	}
	for _, s := range old.Skipped {
		if _, ok := reason(cur.Skipped, s.File); !ok {
			emit(change{Event: "unskipped", File: s.File})
		}
	}
	for _, s := range cur.Skipped {
		if r, ok := reason(old.Skipped, s.File); !ok || r != s.Reason {
			emit(change{Event: "skipped", File: s.File, Reason: s.Reason})
		}
	}
	if old.Default != cur.Default {
		emit(change{Event: "default"})
	}
	return out
}

// networkChanged compares what a NetworkInfo shows, the default aside.
func networkChanged(a, b ocicni.NetworkInfo) bool {
	return a.File != b.File || a.CNIVersion != b.CNIVersion || !slices.Equal(a.PluginTypes, b.PluginTypes) ||
		a.DisableCheck != b.DisableCheck || a.DisableGC != b.DisableGC
}
