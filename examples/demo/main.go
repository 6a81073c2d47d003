// Command demo is a short model of how a container runtime embeds
// github.com/netplumb/ocicni. Run as root, it moves itself into a
// throwaway network and mount namespace, builds a Plugin on a conf dir
// (the embedded default network when the dir holds none), sets up two
// pods, prints their addresses, proves they can talk over TCP, tears them
// down, and checks that nothing was left behind. It builds nothing itself:
// -plugin-dir names the CNI plugin binaries (`make demo` builds them).
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/sandbox"
	"github.com/netplumb/ocicni/ocicni"
)

// defaultConflist is the network used when the conf dir has none: a
// bridge with host-local addresses and port mappings.
//
//go:embed default.conflist
var defaultConflist []byte

// cacheDir is libcni's result cache; in the sandbox it is a private tmpfs.
const cacheDir = "/var/lib/cni"

// sandboxEnv marks the copy of the demo that runs in the throwaway
// namespaces.
const sandboxEnv = "OCICNI_DEMO_SANDBOX"

// echoPort is where pod-b listens in the connectivity check.
const echoPort = 80

func main() {
	pluginDir := flag.String("plugin-dir", "bin/plugins", "directory of the CNI plugin binaries")
	confDir := flag.String("conf-dir", "", "CNI configuration directory; when empty or without a valid configuration, the embedded default network is used")
	flag.Parse()

	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "demo: needs root to create network namespaces; run it as root (for example: sudo make demo)")
		os.Exit(1)
	}
	if !sandbox.Inside(sandboxEnv) {
		// Everything the demo makes, bridges, veths, firewall rules and
		// files, dies with the copy that runs in throwaway namespaces.
		code, err := sandbox.Reexec(sandboxEnv)
		if err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	if err := run(*pluginDir, *confDir); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(pluginDir, confDir string) error {
	if err := sandbox.MountTmpfs("16m", "/run/netns", cacheDir); err != nil {
		return err
	}
	pluginDir, err := filepath.Abs(pluginDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(pluginDir, "bridge")); err != nil {
		return fmt.Errorf("no CNI plugins in %s (run `make plugins`, or pass -plugin-dir): %w", pluginDir, err)
	}
	work, err := os.MkdirTemp("", "ocicni-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	log := logrus.New()
	log.SetLevel(logrus.WarnLevel)

	// A runtime builds one Plugin at start-up and keeps it: it watches the
	// conf dir, so configuration changes need no restart.
	plugin, where, err := newPlugin(log, pluginDir, confDir, work)
	if err != nil {
		return err
	}
	defer plugin.Shutdown()
	portmap := defaultHas(plugin, "portmap")
	if portmap && !haveFirewall() {
		return errNoFirewall
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := plugin.WaitReady(ctx); err != nil {
		return fmt.Errorf("network not ready: %w", err)
	}
	fmt.Println("ocicni demo: everything happens in a throwaway network namespace")
	fmt.Printf("  network  %s (%s)\n  plugins  %s\n  cache    %s (tmpfs)\n\n", plugin.GetDefaultNetworkName(), where, pluginDir, cacheDir)

	// The runtime creates each pod's network namespace, then asks the
	// library to attach it to the default network.
	var pods []ocicni.PodNetwork
	for _, name := range []string{"pod-a", "pod-b"} {
		nsPath, err := sandbox.CreateNetNS("demo-" + name)
		if err != nil {
			return fmt.Errorf("creating the netns of %s: %w", name, err)
		}
		defer sandbox.DeleteNetNS("demo-" + name)
		pod := ocicni.PodNetwork{Name: name, Namespace: "demo", ID: "demo-" + name, NetNS: nsPath}
		pod.RuntimeConfig = map[string]ocicni.RuntimeConfig{plugin.GetDefaultNetworkName(): {
			PortMappings: []ocicni.PortMapping{{HostPort: 8080 + int32(len(pods)), ContainerPort: 80, Protocol: "tcp"}},
		}}
		if _, err := plugin.SetUpPodWithContext(ctx, pod); err != nil {
			return fmt.Errorf("setting up %s: %w", name, err)
		}
		pods = append(pods, pod)
	}

	fmt.Printf("setup         %s and %s attached to %q", pods[0].Name, pods[1].Name, plugin.GetDefaultNetworkName())
	if portmap {
		fmt.Print(", host ports 8080 and 8081 mapped to their port 80")
	}
	fmt.Print("\n\n")

	// Status reads back what each pod got, as a runtime reports it.
	rows, err := statusRows(ctx, plugin, pods)
	if err != nil {
		return err
	}
	printTable(os.Stdout, rows)

	target, err := addressOf(rows, pods[1].Name)
	if err != nil {
		return err
	}
	msg := "hello from " + pods[0].Name
	if err := sandbox.TCPEcho(pods[0].NetNS, pods[1].NetNS, net.JoinHostPort(target, strconv.Itoa(echoPort)), msg); err != nil {
		return fmt.Errorf("pod-to-pod TCP from %s to %s: %w", pods[0].Name, target, err)
	}
	fmt.Printf("\nconnectivity  %s -> %s %s:%d over TCP: ok (%q echoed back)\n", pods[0].Name, pods[1].Name, target, echoPort, msg)

	// Teardown needs only the sandbox ID: the library tears down whatever
	// the pod was set up with, from the configuration cached at setup.
	for _, pod := range slices.Backward(pods) {
		if err := plugin.TearDownPodWithContext(ctx, ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
			return fmt.Errorf("tearing down %s: %w", pod.Name, err)
		}
	}
	fmt.Printf("teardown      %d pods torn down\n", len(pods))
	return reportLeftovers(plugin)
}

// newPlugin builds the Plugin on confDir, or, when that is empty or holds
// no valid configuration, on a fresh conf dir holding the embedded default.
// It returns a description of where the configuration came from.
func newPlugin(log logrus.FieldLogger, pluginDir, confDir, work string) (*ocicni.Plugin, string, error) {
	opts := func(dir string) []ocicni.Option {
		return []ocicni.Option{
			ocicni.WithConfDir(dir), ocicni.WithBinDirs(pluginDir),
			ocicni.WithCacheDir(cacheDir), ocicni.WithLogger(log),
		}
	}
	if confDir != "" {
		p, err := ocicni.New(opts(confDir)...)
		if err != nil {
			return nil, "", err
		}
		if p.GetDefaultNetworkName() != "" {
			return p, "from " + confDir, nil
		}
		_ = p.Shutdown()
		fmt.Printf("no valid configuration in %s; using the embedded default\n", confDir)
	}
	dir := filepath.Join(work, "net.d")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	conf, where := defaultConflist, "embedded default: bridge + host-local + portmap"
	if !haveFirewall() {
		// A fresh machine may have neither tool; everything but the port
		// mappings still shows what the library does.
		var err error
		if conf, err = withoutPlugin(defaultConflist, "portmap"); err != nil {
			return nil, "", err
		}
		where = "embedded default: bridge + host-local"
		fmt.Println("no iptables or nft on PATH: running without port mapping (Debian: apt-get install iptables nftables)")
	}
	if err := os.WriteFile(filepath.Join(dir, "10-demo.conflist"), conf, 0o644); err != nil {
		return nil, "", err
	}
	p, err := ocicni.New(opts(dir)...)
	return p, where, err
}

// defaultHas reports whether the default network's chain has a plugin of
// the given type.
func defaultHas(p *ocicni.Plugin, pluginType string) bool {
	for _, n := range p.Networks().Networks {
		if n.Default && slices.Contains(n.PluginTypes, pluginType) {
			return true
		}
	}
	return false
}
