package ocicni_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/ocicni"
)

// The examples run real plugin binaries from the directory `make plugins`
// fills: noop, which answers every verb and touches nothing, and faulty, a
// test plugin that fails on the verbs its configuration names.

// A runtime builds one Plugin at start-up and keeps it. New does not fail
// because the conf dir is empty or missing; Status says what is missing.
func ExampleNew() {
	confDir, cleanup := tempDir()
	defer cleanup()
	writeConf(confDir, "10-pods.conflist", `{
	  "cniVersion": "1.0.0", "name": "pods",
	  "plugins": [{"type": "noop"}]
	}`)

	plugin, err := ocicni.New(
		ocicni.WithConfDir(confDir),
		ocicni.WithBinDirs(pluginDir()),
		ocicni.WithCacheDir(filepath.Join(confDir, "cache")),
	)
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	fmt.Println("default network:", plugin.GetDefaultNetworkName())
	fmt.Println("status:", plugin.Status())
	// Output:
	// default network: pods
	// status: <nil>
}

// Networks tells an operator what was loaded and why each other file was
// not; the view encodes to JSON as it is.
func ExamplePlugin_Networks() {
	confDir, cleanup := tempDir()
	defer cleanup()
	writeConf(confDir, "10-pods.conflist", `{
	  "cniVersion": "1.0.0", "name": "pods",
	  "plugins": [{"type": "noop"}, {"type": "faulty"}]
	}`)
	writeConf(confDir, "20-broken.conflist", "{\n  \"cniVersion\": \"1.0.0\",,\n}")

	plugin, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(pluginDir()))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	set := plugin.Networks()
	for _, n := range set.Networks {
		fmt.Printf("network %s (default %v): %s\n", n.Name, n.Default, strings.Join(n.PluginTypes, " -> "))
	}
	for _, s := range set.Skipped {
		fmt.Printf("skipped %s: %s\n", filepath.Base(s.File), s.Reason)
	}

	data, err := json.MarshalIndent(set.Networks[0], "", "  ")
	if err != nil {
		panic(err)
	}
	// The temporary conf dir is shown as the usual one.
	fmt.Println(strings.ReplaceAll(string(data), confDir, ocicni.DefaultConfDir))
	// Output:
	// network pods (default true): noop -> faulty
	// skipped 20-broken.conflist: is not a JSON object: line 2, column 25: invalid character looking for beginning of object key string
	// {
	//   "name": "pods",
	//   "file": "/etc/cni/net.d/10-pods.conflist",
	//   "cniVersion": "1.0.0",
	//   "pluginTypes": [
	//     "noop",
	//     "faulty"
	//   ],
	//   "default": true,
	//   "disableCheck": false,
	//   "disableGC": false
	// }
}

// WaitReady blocks until pods can be set up. A node agent typically calls
// it at start-up, before it reports the node ready; the network provider
// may install its configuration only later.
func ExamplePlugin_WaitReady() {
	confDir, cleanup := tempDir()
	defer cleanup()
	plugin, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(pluginDir()))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	// Nothing is installed yet: the wait ends with the context, and the
	// error says why the network is not ready.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err = plugin.WaitReady(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded), errors.Is(err, ocicni.ErrNotReady))

	// The provider installs its configuration while the runtime waits.
	go writeConf(confDir, "10-pods.conflist", `{
	  "cniVersion": "1.0.0", "name": "pods",
	  "plugins": [{"type": "noop"}]
	}`)
	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fmt.Println(plugin.WaitReady(ctx), plugin.GetDefaultNetworkName())
	// Output:
	// true true
	// <nil> pods
}

// SetUpPodWithContext attaches a pod's network namespace to its networks
// (the default one when PodNetwork.Networks is empty) and returns what each
// plugin chain reported. Teardown needs only the sandbox ID and netns: the
// library tears down what the pod was set up with. Setting a pod up enters
// its network namespace, so this example needs root and is not run.
func ExamplePlugin_SetUpPodWithContext() {
	plugin, err := ocicni.New(ocicni.WithConfDir(ocicni.DefaultConfDir), ocicni.WithBinDirs(ocicni.DefaultBinDir))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pod := ocicni.PodNetwork{
		Namespace: "default", Name: "web", ID: "4f2a9c",
		NetNS: "/run/netns/4f2a9c", // created by the runtime beforehand
		RuntimeConfig: map[string]ocicni.RuntimeConfig{
			plugin.GetDefaultNetworkName(): {PortMappings: []ocicni.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}}},
		},
	}
	results, err := plugin.SetUpPodWithContext(ctx, pod)
	if err != nil {
		panic(err)
	}
	for _, r := range results {
		fmt.Println(r.Name, r.Ifname, r.Result)
	}

	if err := plugin.TearDownPodWithContext(ctx, ocicni.PodNetwork{ID: pod.ID, NetNS: pod.NetNS}); err != nil {
		panic(err)
	}
}

// When a plugin fails, the error is an *ocicni.OpError naming the pod, the
// network and the operation, and errors.As finds the plugin's own
// *cnitypes.Error with its code. The networks set up before the failing
// one have been torn down again. Setting a pod up enters its network
// namespace, so this example needs root and is not run.
func ExampleOpError() {
	plugin, err := ocicni.New(ocicni.WithConfDir(ocicni.DefaultConfDir), ocicni.WithBinDirs(ocicni.DefaultBinDir))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	pod := ocicni.PodNetwork{Namespace: "default", Name: "web", ID: "4f2a9c", NetNS: "/run/netns/4f2a9c"}
	_, err = plugin.SetUpPodWithContext(context.Background(), pod)

	var opErr *ocicni.OpError
	var cniErr *cnitypes.Error
	switch {
	case errors.As(err, &cniErr) && ocicni.IsRetryable(err):
		fmt.Println("plugin asks to try again later:", cniErr.Msg)
	case errors.As(err, &opErr) && errors.As(err, &cniErr):
		fmt.Printf("%s of network %s failed with code %d: %s\n", opErr.Op, opErr.Network, cniErr.Code, cniErr.Msg)
	case errors.Is(err, ocicni.ErrNotReady):
		fmt.Println("no usable network yet:", err)
	case err != nil:
		fmt.Println(err)
	}
}

// A plugin's answer to the CNI STATUS verb (cniVersion 1.1.0), asked in
// the background, reaches the caller of Status with its code, as errors
// from pod operations do; code 50 also matches ErrNetworkUnavailable.
func ExamplePlugin_StatusWithContext() {
	confDir, cleanup := tempDir()
	defer cleanup()
	writeConf(confDir, "10-pods.conflist", `{
	  "cniVersion": "1.1.0", "name": "pods",
	  "plugins": [{"type": "faulty", "faults": {"STATUS": "error"}, "errorCode": 50, "errorMsg": "no IP addresses left"}]
	}`)
	plugin, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(pluginDir()))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	err = plugin.StatusWithContext(context.Background())
	var cniErr *cnitypes.Error
	if errors.Is(err, ocicni.ErrNotReady) && errors.As(err, &cniErr) {
		fmt.Printf("not ready, plugin says %d: %s\n", cniErr.Code, cniErr.Msg)
	}
	fmt.Println(errors.Is(err, ocicni.ErrNetworkUnavailable))
	// Output:
	// not ready, plugin says 50: no IP addresses left
	// true
}

// A readiness error says what an operator should fix, and matches the
// sentinel for it: here a binary the configuration names is not installed.
func ExamplePlugin_Status() {
	confDir, cleanup := tempDir()
	defer cleanup()
	writeConf(confDir, "10-pods.conflist", `{
	  "cniVersion": "1.0.0", "name": "pods",
	  "plugins": [{"type": "noop"}, {"type": "not-installed"}]
	}`)
	plugin, err := ocicni.New(ocicni.WithConfDir(confDir), ocicni.WithBinDirs(pluginDir()))
	if err != nil {
		panic(err)
	}
	defer plugin.Shutdown()

	err = plugin.Status()
	fmt.Println(errors.Is(err, ocicni.ErrNotReady), errors.Is(err, ocicni.ErrPluginNotFound))
	// Output:
	// true true
}

// pluginDir is where `make plugins` puts the binaries the examples run;
// OCICNI_PLUGIN_DIR overrides it, as for the tests.
func pluginDir() string {
	if dir := os.Getenv("OCICNI_PLUGIN_DIR"); dir != "" {
		return dir
	}
	dir, err := filepath.Abs(filepath.Join("..", "bin", "plugins"))
	if err != nil {
		panic(err)
	}
	return dir
}

// tempDir makes a conf dir for one example and returns its remover.
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "ocicni-example-")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// writeConf installs a configuration file the way a network provider
// should: written aside, then renamed into place, so the watcher never
// sees it half-written.
func writeConf(dir, name, conf string) {
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(conf), 0o644); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		panic(err)
	}
}
