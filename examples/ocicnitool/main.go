// Command ocicnitool is an operator's tool for github.com/netplumb/ocicni:
// it attaches a network namespace to a CNI network, checks, reports and
// removes the attachment, tells whether the configuration is ready, lists
// the networks, collects stale attachments and follows configuration
// changes. It takes cnitool's arguments and environment, so a cnitool
// command line works with the name changed, and it goes through the same
// library a runtime embeds, so it sees what the runtime would see.
//
// Run `ocicnitool --help` for the verbs, flags and exit codes; README.md
// beside this file is the full manual.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
)

// Exit codes. Scripts may rely on them.
const (
	exitOK       = 0 // the verb did what it was asked
	exitFailed   = 1 // the operation failed (a plugin error, a timeout, ...)
	exitUsage    = 2 // unknown verb or flag, wrong arguments, bad environment
	exitNotReady = 3 // the network is not ready (ready, or any verb failing with ErrNotReady)
)

// verb is one subcommand.
type verb struct {
	name    string
	args    string // the positional arguments, for the usage line
	summary string
	// help is printed under the usage line of `ocicnitool VERB --help`.
	help string
	// minArgs and maxArgs bound the positional arguments; maxArgs < 0
	// means no upper bound.
	minArgs, maxArgs int
	// flags registers the verb's own flags; the common ones are added by
	// parseInvocation.
	flags func(*invocation, *flag.FlagSet)
	run   func(context.Context, *invocation) error
}

// verbs lists the subcommands in the order --help shows them.
func verbs() []*verb {
	return []*verb{addVerb(), checkVerb(), delVerb(), statusVerb(), readyVerb(), listVerb(), gcVerb(), watchVerb()}
}

func main() {
	// SIGINT and SIGTERM cancel the context: watch and ready --wait end
	// there, and a pod operation in flight stops (a failed ADD is still
	// rolled back by the library).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program short of the process: it parses args (the
// command line without the program name) with getenv as the environment,
// runs the verb and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		writeUsage(stdout)
		return exitOK
	}
	var v *verb
	for _, cand := range verbs() {
		if cand.name == args[0] {
			v = cand
		}
	}
	if v == nil {
		fmt.Fprintf(stderr, "ocicnitool: unknown verb %q\n\n", args[0])
		writeUsage(stderr)
		return exitUsage
	}
	inv, err := parseInvocation(v, args[1:], getenv, stdout, stderr)
	if errors.Is(err, errHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "ocicnitool %s: %v\n", v.name, err)
		fmt.Fprintf(stderr, "run `ocicnitool %s --help` for usage\n", v.name)
		return exitUsage
	}
	if inv.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, inv.timeout)
		defer cancel()
	}
	if err := v.run(ctx, inv); err != nil {
		writeError(inv.errOut(), inv.json, v.name, err)
		return exitCode(err)
	}
	return exitOK
}

// writeUsage prints the top-level help.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, `ocicnitool: attach network namespaces to CNI networks through ocicni

Usage:
  ocicnitool VERB [FLAGS] [ARGS]
  ocicnitool VERB --help

Verbs:
`)
	t := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, v := range verbs() {
		fmt.Fprintf(t, "  %s\t%s\t%s\n", v.name, v.args, v.summary)
	}
	_ = t.Flush()
	fmt.Fprint(w, `
Flags come after the verb, before or between its arguments; "--" ends them.
Every verb takes --conf-dir, --bin-dir, --cache-dir, --default-network,
--json, --timeout and --debug.

Environment (as cnitool; the flags override it):
  NETCONFPATH     configuration directory (--conf-dir), default /etc/cni/net.d
  CNI_PATH        plugin directories, colon-separated (--bin-dir), default /opt/cni/bin
  CNI_IFNAME      interface name in the namespace (--ifname), default eth0
  CNI_ARGS        "K=V;K2=V2": IP, MAC, IgnoreUnknown, K8S_POD_NAMESPACE,
                  K8S_POD_NAME, K8S_POD_UID, K8S_POD_INFRA_CONTAINER_ID (--args)
  CAP_ARGS        capability arguments as a JSON object (--cap-args)
  CNI_CONTAINERID sandbox ID (--container-id); default "cnitool-" and the first
                  10 bytes, in hex, of the SHA-512 of the absolute netns path
The result cache is /var/lib/cni unless --cache-dir says otherwise.

Output is a table by default; --json prints one JSON document (watch: one
per line). With --json, an error is a JSON object on stdout too.

Exit codes:
  0  ok
  1  the operation failed (the plugin's CNI error code and message are printed)
  2  usage: unknown verb or flag, wrong arguments, unusable environment
  3  not ready (ready, or any verb refused because the network is not ready)
`)
}
