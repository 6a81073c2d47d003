package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/netplumb/ocicni/ocicni"
)

// errHelp reports that --help was asked for and answered.
var errHelp = errors.New("help shown")

// invocation is one parsed command line: the common flags (with the
// environment as their defaults), the verb's own, and the positional
// arguments.
type invocation struct {
	verb   string
	getenv func(string) string
	stdout io.Writer
	stderr io.Writer

	confDir        string
	binDirs        string // colon-separated, as CNI_PATH
	cacheDir       string
	defaultNetwork string
	json           bool
	timeout        time.Duration
	debug          bool

	// Pod verbs (add, check, del, status).
	ifname      string
	containerID string
	cniArgs     string
	capArgs     string
	timings     bool
	// networksAnnotation selects further networks for add and del.
	networksAnnotation string
	// spans records the operation's spans when timings is set.
	spans *spanLog

	// ready --wait, gc --all.
	wait bool
	all  bool

	args []string
}

// errOut is where errors go: stderr, or with --json stdout, so a script
// reads one JSON document whatever happened.
func (inv *invocation) errOut() io.Writer {
	if inv.json {
		return inv.stdout
	}
	return inv.stderr
}

// binDirList splits the plugin directories like CNI_PATH.
func (inv *invocation) binDirList() []string {
	var dirs []string
	for _, d := range filepath.SplitList(inv.binDirs) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// usageError marks an error as the caller's: exit code 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// parseInvocation parses the arguments after the verb. Flags may come
// before, between or after the positional arguments; "--" ends them.
func parseInvocation(v *verb, args []string, getenv func(string) string, stdout, stderr io.Writer) (*invocation, error) {
	inv := &invocation{verb: v.name, getenv: getenv, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("ocicnitool "+v.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	inv.commonFlags(fs)
	if v.flags != nil {
		v.flags(inv, fs)
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		writeVerbHelp(stdout, v, fs)
		return nil, errHelp
	}
	if err != nil {
		return nil, err
	}
	if len(pos) < v.minArgs || (v.maxArgs >= 0 && len(pos) > v.maxArgs) {
		return nil, fmt.Errorf("want arguments %s, got %d", v.args, len(pos))
	}
	inv.args = pos
	return inv, nil
}

// parseInterspersed runs fs over args, collecting the positional
// arguments between flags, since the flag package stops at the first one.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// commonFlags registers the flags every verb takes; the environment gives
// their defaults, so --help shows what would be used.
func (inv *invocation) commonFlags(fs *flag.FlagSet) {
	fs.StringVar(&inv.confDir, "conf-dir", envOr(inv.getenv, envNetConfPath, ocicni.DefaultConfDir), "network configuration directory (env "+envNetConfPath+")")
	fs.StringVar(&inv.binDirs, "bin-dir", envOr(inv.getenv, envCNIPath, ocicni.DefaultBinDir), "plugin directories, colon-separated (env "+envCNIPath+")")
	fs.StringVar(&inv.cacheDir, "cache-dir", ocicni.DefaultCacheDir, "result cache directory")
	fs.StringVar(&inv.defaultNetwork, "default-network", "", "name of the default network (default: the first valid file by name)")
	fs.BoolVar(&inv.json, "json", false, "print JSON instead of a table")
	fs.DurationVar(&inv.timeout, "timeout", 0, "give up after this long, for example 30s (default: no limit beyond the plugins' own)")
	fs.BoolVar(&inv.debug, "debug", false, "log the library's warnings and debug messages to stderr (default: errors only)")
}

// podFlags registers the flags of the verbs that act on one attachment.
func podFlags(inv *invocation, fs *flag.FlagSet) {
	fs.StringVar(&inv.ifname, "ifname", envOr(inv.getenv, envIfname, ocicni.DefaultInterfaceName), "interface name in the namespace (env "+envIfname+")")
	fs.StringVar(&inv.containerID, "container-id", inv.getenv(envContainerID), "sandbox ID (env "+envContainerID+"; default derived from the netns path as cnitool does)")
	fs.StringVar(&inv.cniArgs, "args", inv.getenv(envCNIArgs), `CNI arguments "K=V;K2=V2" (env `+envCNIArgs+")")
	fs.StringVar(&inv.capArgs, "cap-args", inv.getenv(envCapArgs), "capability arguments as a JSON object (env "+envCapArgs+")")
	fs.BoolVar(&inv.timings, "timings", false, "also print how long the operation, each network and each plugin exec took")
}

// addFlags registers the flags of add and del: the pod flags and the
// network selection.
func addFlags(inv *invocation, fs *flag.FlagSet) {
	podFlags(inv, fs)
	fs.StringVar(&inv.networksAnnotation, "networks-annotation", "", "a k8s.v1.cni.cncf.io/networks annotation selecting further networks (add prints the network-status annotation; del detaches the same networks)")
}

// writeVerbHelp prints `ocicnitool VERB --help`.
func writeVerbHelp(w io.Writer, v *verb, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: ocicnitool %s [FLAGS] %s\n\n%s\n", v.name, v.args, v.summary)
	if v.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(v.help))
	}
	fmt.Fprint(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, "\nExit codes: 0 ok, 1 operation failed, 2 usage, 3 not ready.\n")
}
