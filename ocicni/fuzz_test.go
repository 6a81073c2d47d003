package ocicni

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/sirupsen/logrus"

	"github.com/netplumb/ocicni/internal/testutil"
)

// FuzzLoadConf feeds arbitrary bytes, under each configuration extension,
// through the loader beside one valid file. Seeds: testdata/fuzz/FuzzLoadConf.
// It checks that every file is either loaded or skipped with a reason, that
// the valid neighbour always loads (unless the fuzzed file claims its name
// first), and that whatever loads is a usable network.
func FuzzLoadConf(f *testing.F) {
	binDir := testutil.LinkPlugins(f, "faulty")
	quiet := logrus.New()
	quiet.SetOutput(io.Discard)
	// One validation cache for all inputs: the faulty binary answers
	// VERSION once, and every later input costs no exec.
	cache := newValidCache()
	exec := &pluginExec{timeout: 10 * time.Second, log: quiet}
	f.Add([]byte(`{"cniVersion":"1.0.0","name":"n","plugins":[{"type":"faulty"}]}`), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, sel uint8) {
		dir := t.TempDir()
		fuzzFile := filepath.Join(dir, "50-fuzz"+confExtensions[int(sel)%len(confExtensions)])
		if err := os.WriteFile(fuzzFile, data, 0o644); err != nil {
			t.Fatal(err)
		}
		goodFile := testutil.WriteJSON(t, dir, "99-good.conflist", `{"cniVersion":"1.0.0","name":"good","plugins":[{"type":"faulty"}]}`)
		l := &loader{confDir: dir, binDirs: []string{binDir}, exec: exec, cache: cache, log: quiet}
		set := l.load(context.Background())

		if n := len(set.ordered) + len(set.skipped); n != 2 {
			t.Fatalf("%d files loaded or skipped, want 2", n)
		}
		for _, s := range set.skipped {
			if strings.TrimSpace(s.Reason) == "" {
				t.Fatalf("%s skipped without a reason", s.File)
			}
		}
		if set.def == nil {
			t.Fatal("no default network although a valid file is present")
		}
		var fuzzed *network
		for _, n := range set.ordered {
			if n.file == fuzzFile {
				fuzzed = n
			}
		}
		if good := set.byName["good"]; good == nil || (good.file != goodFile && good != fuzzed) {
			t.Fatalf("the valid neighbour did not load: %+v", set.skipped)
		}
		_, parseErr := parseConf(fuzzFile, data)
		if fuzzed == nil {
			return
		}
		if parseErr != nil {
			t.Fatalf("loaded although parseConf refuses it: %v", parseErr)
		}
		checkLoadedNetwork(t, fuzzed, data)
	})
}

func checkLoadedNetwork(t *testing.T, n *network, data []byte) {
	t.Helper()
	if len(data) > maxConfSize || !utf8.Valid(data) {
		t.Fatalf("loaded a file of %d bytes, valid UTF-8 %v", len(data), utf8.Valid(data))
	}
	if err := utils.ValidateNetworkName(n.name); err != nil || n.name != n.list.Name {
		t.Fatalf("loaded network with name %q: %v", n.name, err)
	}
	if !slices.Contains(version.All.SupportedVersions(), n.list.CNIVersion) {
		t.Fatalf("loaded network with cniVersion %q", n.list.CNIVersion)
	}
	if len(n.list.Plugins) == 0 || len(n.types) != len(n.list.Plugins) {
		t.Fatalf("loaded network with %d plugins, %d types", len(n.list.Plugins), len(n.types))
	}
	for _, typ := range n.types {
		if typ != "faulty" {
			t.Fatalf("loaded a network whose plugin %q is not installed", typ)
		}
	}
	if _, err := libcni.ConfListFromBytes(n.list.Bytes); err != nil {
		t.Fatalf("loaded network's bytes do not parse again: %v", err)
	}
}

// cniArgKeys are the only keys the library may put in CNI_ARGS.
var cniArgKeys = []string{"IgnoreUnknown", "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID", "IP", "MAC"}

// FuzzRuntimeConf turns arbitrary pod fields into runtime arguments the
// way SetUpPod does. Seeds: testdata/fuzz/FuzzRuntimeConf. Whatever is
// accepted must be safe to hand to a plugin: CNI_ARGS holds exactly the
// intended keys (no value smuggles in a ';' or '='), interface names and
// the sandbox ID are valid, the cache file name is one path element within
// the file name limit, and addresses and ports are well-formed. Whatever
// is refused is refused with a sentinel.
func FuzzRuntimeConf(f *testing.F) {
	f.Add("web", "shop", "sb1", "uid-1", "", "10.0.0.2", "", int32(8080), int32(80), "tcp", "")
	f.Fuzz(func(t *testing.T, name, namespace, id, uid, ifname, ip, mac string, hostPort, containerPort int32, proto, hostIP string) {
		pod := PodNetwork{
			Name: name, Namespace: namespace, ID: id, UID: uid, NetNS: "/proc/self/ns/net",
			Networks: []NetAttachment{{Name: "net1", Ifname: ifname}, {Name: "net2"}},
			RuntimeConfig: map[string]RuntimeConfig{"net1": {
				IP: ip, MAC: mac,
				PortMappings: []PortMapping{{HostPort: hostPort, ContainerPort: containerPort, Protocol: proto, HostIP: hostIP}},
			}},
		}
		p := &Plugin{opts: options{kubernetesArgs: true}}
		set := &netSet{byName: map[string]*network{}}
		for _, n := range []string{"net1", "net2"} {
			set.byName[n] = &network{name: n, list: &libcni.NetworkConfigList{Name: n, CNIVersion: "1.0.0"}}
		}
		err := validateSetup(&pod)
		var atts []*attachment
		if err == nil {
			atts, err = p.planSetup(set, &pod)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPodNetwork) {
				t.Fatalf("refused without ErrInvalidPodNetwork: %v", err)
			}
			return
		}
		if err := utils.ValidateContainerID(id); err != nil {
			t.Fatalf("accepted sandbox ID %q", id)
		}
		seen := map[string]bool{}
		for _, a := range atts {
			if err := utils.ValidateInterfaceName(a.ifname); err != nil || seen[a.ifname] {
				t.Fatalf("accepted interface name %q (duplicate %v): %v", a.ifname, seen[a.ifname], err)
			}
			seen[a.ifname] = true
			cacheName := fmt.Sprintf("%s-%s-%s", a.name, a.rt.ContainerID, a.rt.IfName)
			if len(cacheName) > maxCacheFileName || filepath.Base(cacheName) != cacheName {
				t.Fatalf("accepted a pod whose cache file name is %q", cacheName)
			}
			checkCNIArgs(t, a.rt)
		}
		rc := pod.RuntimeConfig["net1"]
		if ip != "" && net.ParseIP(ip) == nil {
			t.Fatalf("accepted IP %q", ip)
		}
		if _, err := net.ParseMAC(mac); mac != "" && err != nil {
			t.Fatalf("accepted MAC %q", mac)
		}
		for _, pm := range rc.PortMappings {
			if pm.HostPort < 1 || pm.HostPort > 65535 || pm.ContainerPort < 1 || pm.ContainerPort > 65535 {
				t.Fatalf("accepted port mapping %+v", pm)
			}
		}
		if got := atts[0].rt.CapabilityArgs["portMappings"].([]PortMapping)[0].Protocol; !slices.Contains([]string{"tcp", "udp", "sctp"}, got) {
			t.Fatalf("accepted protocol %q", got)
		}
	})
}

// checkCNIArgs encodes rt the way libcni hands it to a plugin and checks
// that the plugin would parse back exactly the pairs the library meant.
func checkCNIArgs(t *testing.T, rt *libcni.RuntimeConf) {
	t.Helper()
	env := (&invoke.Args{Command: "ADD", ContainerID: rt.ContainerID, NetNS: rt.NetNS, IfName: rt.IfName,
		PluginArgs: rt.Args, Path: "/opt/cni/bin"}).AsEnv()
	var cniArgs string
	for _, kv := range env {
		if strings.ContainsRune(kv, 0) {
			t.Fatalf("environment entry %q holds a NUL", kv)
		}
		if v, ok := strings.CutPrefix(kv, "CNI_ARGS="); ok {
			cniArgs = v
		}
	}
	if len(rt.Args) == 0 {
		return
	}
	pairs := strings.Split(cniArgs, ";")
	if len(pairs) != len(rt.Args) {
		t.Fatalf("CNI_ARGS %q has %d pairs, want %d", cniArgs, len(pairs), len(rt.Args))
	}
	keys := map[string]bool{}
	for i, pair := range pairs {
		kv := strings.Split(pair, "=")
		if len(kv) != 2 || kv[0] != rt.Args[i][0] || kv[1] != rt.Args[i][1] {
			t.Fatalf("CNI_ARGS pair %q does not read back as %v", pair, rt.Args[i])
		}
		if !slices.Contains(cniArgKeys, kv[0]) || keys[kv[0]] {
			t.Fatalf("CNI_ARGS key %q unexpected or repeated in %q", kv[0], cniArgs)
		}
		keys[kv[0]] = true
	}
}
