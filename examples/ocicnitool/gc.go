package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/ocicni"
)

func gcVerb() *verb {
	return &verb{
		name: "gc", args: "[SANDBOX-ID|NETNS-PATH...]", minArgs: 0, maxArgs: -1,
		summary: "keep the listed sandboxes, collect every other cached attachment",
		help: `
Every attachment in the result cache whose sandbox is not listed is DEL'd
(with the configuration cached at ADD time) and its cache entry removed;
then the CNI GC verb goes to each network of cniVersion 1.1.0 or later.
An argument starting with "/" is a netns path and keeps the sandbox ID
derived from it as add derives it.

With no sandbox listed EVERYTHING cached is collected: that needs --all,
so a forgotten argument cannot detach every pod on the node.`,
		flags: func(inv *invocation, fs *flag.FlagSet) {
			fs.BoolVar(&inv.all, "all", false, "with no sandbox listed, collect every cached attachment")
		},
		run: runGC,
	}
}

// gcReport is the outcome of gc: each attachment cached before it ran.
type gcReport struct {
	Kept        []string       `json:"kept"`
	Attachments []gcAttachment `json:"attachments"`
}

// gcAttachment is one cached attachment and what gc did with it.
type gcAttachment struct {
	Sandbox string `json:"sandbox"`
	Network string `json:"network"`
	Ifname  string `json:"ifname"`
	// State is "kept" (listed), "collected" (DEL'd and gone from the
	// cache) or "left" (not listed, yet still cached, for example because
	// its network sets disableGC).
	State string `json:"state"`
}

func runGC(ctx context.Context, inv *invocation) error {
	if len(inv.args) == 0 && !inv.all {
		return usagef("no sandbox to keep was listed: that would collect every cached attachment; pass --all if that is what you want")
	}
	if len(inv.args) > 0 && inv.all {
		return usagef("--all and a list of sandboxes to keep exclude each other")
	}
	keep, err := keptIDs(inv.args)
	if err != nil {
		return err
	}
	p, err := inv.newPlugin(false)
	if err != nil {
		return err
	}
	defer p.Shutdown()
	cache := libcni.NewCNIConfigWithCacheDir(inv.binDirList(), inv.cacheDir, nil)
	before, err := cache.GetCachedAttachments("")
	if err != nil {
		return fmt.Errorf("reading the result cache in %s: %w", inv.cacheDir, err)
	}
	valid := make([]*ocicni.PodNetwork, len(keep))
	for i, id := range keep {
		valid[i] = &ocicni.PodNetwork{ID: id}
	}
	if err := p.GC(ctx, valid); err != nil {
		return err
	}
	after, err := cache.GetCachedAttachments("")
	if err != nil {
		return fmt.Errorf("reading the result cache in %s: %w", inv.cacheDir, err)
	}
	return inv.emit(newGCReport(keep, before, after))
}

// keptIDs turns the arguments into sandbox IDs.
func keptIDs(args []string) ([]string, error) {
	ids := make([]string, 0, len(args))
	for _, a := range args {
		switch {
		case a == "":
			return nil, usagef("an empty sandbox ID was listed")
		case strings.HasPrefix(a, "/"):
			ids = append(ids, cnitoolContainerID(filepath.Clean(a)))
		default:
			ids = append(ids, a)
		}
	}
	return ids, nil
}

// newGCReport compares the cache before and after GC.
func newGCReport(keep []string, before, after []*libcni.NetworkAttachment) *gcReport {
	key := func(a *libcni.NetworkAttachment) string {
		return a.Network + "\x00" + a.ContainerID + "\x00" + a.IfName
	}
	still := map[string]bool{}
	for _, a := range after {
		still[key(a)] = true
	}
	r := &gcReport{Kept: append([]string{}, keep...), Attachments: []gcAttachment{}}
	for _, a := range before {
		state := "collected"
		switch {
		case slices.Contains(keep, a.ContainerID):
			state = "kept"
		case still[key(a)]:
			state = "left"
		}
		r.Attachments = append(r.Attachments, gcAttachment{Sandbox: a.ContainerID, Network: a.Network, Ifname: a.IfName, State: state})
	}
	return r
}

func (r *gcReport) writeText(w io.Writer) error {
	if len(r.Attachments) == 0 {
		_, err := fmt.Fprintln(w, "nothing cached; nothing to collect")
		return err
	}
	t := newTable(w)
	fmt.Fprintln(t, "SANDBOX\tNETWORK\tIFNAME\tSTATE")
	for _, a := range r.Attachments {
		fmt.Fprintf(t, "%s\t%s\t%s\t%s\n", a.Sandbox, a.Network, a.Ifname, a.State)
	}
	return t.Flush()
}
