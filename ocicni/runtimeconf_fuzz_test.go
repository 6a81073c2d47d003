package ocicni

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/netplumb/ocicni/internal/netconf"
	"github.com/netplumb/ocicni/internal/pluginexec"
	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/sirupsen/logrus"
)

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
	set := fuzzNetworks(f, "net1", "net2")
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

// fuzzNetworks loads one noop network per name from a conf dir of its own
// and returns the snapshot, as a Plugin would plan against it.
func fuzzNetworks(f *testing.F, names ...string) *netconf.Set {
	dir := f.TempDir()
	for _, n := range names {
		testutil.WriteJSON(f, dir, n+".conflist", map[string]any{"cniVersion": "1.0.0", "name": n, "plugins": []any{map[string]any{"type": "noop"}}})
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	s := netconf.Open(netconf.Config{ConfDir: dir, BinDirs: []string{testutil.LinkPlugins(f, "noop")}, Log: log,
		Exec: pluginexec.New(pluginexec.Config{Timeouts: pluginexec.Timeouts{ByVerb: map[string]time.Duration{"VERSION": 10 * time.Second}}, Log: log})})
	f.Cleanup(s.Close)
	set, err := s.Current(context.Background())
	if err != nil || len(set.Ordered) != len(names) {
		f.Fatalf("loaded %d of %d networks: %v", len(set.Ordered), len(names), err)
	}
	return set
}
