package ocicni

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

// allCapabilities are the capability names the library can send.
var allCapabilities = []string{
	"portMappings", "bandwidth", "ipRanges", "cgroupPath", "io.kubernetes.cri.pod-annotations",
	"ips", "mac", "dns", "deviceID", "infinibandGUID", "aliases",
}

func capsConf(names ...string) map[string]any {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return map[string]any{"capabilities": m}
}

// asJSONValue round-trips v through JSON, so expected and received values
// compare without caring about Go types.
func asJSONValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseCNIArgs(s string) map[string]string {
	m := map[string]string{}
	if s == "" {
		return m
	}
	for _, kv := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

func TestCapabilityArgsReachOnlyDeclaringPlugins(t *testing.T) {
	e := newEnv(t)
	res := debug.Debug{ReportResult: testutil.ResultFor("1.0.0", "10.0.0.1")}
	pass := debug.Debug{ReportResult: "PASSTHROUGH"}
	all, allP := e.noopConf(res, "", capsConf(allCapabilities...))
	some, someP := e.noopConf(pass, "", capsConf("portMappings"))
	none, noneP := e.noopConf(pass, "", nil)
	e.writeList("10-a.conflist", "a", "1.0.0", nil, all, some, none)
	onlyB, bP := e.noopConf(res, "", capsConf("aliases"))
	e.writeList("20-b.conflist", "b", "1.0.0", nil, onlyB)
	p := e.plugin(WithWatch(false))
	pod := richPod(testutil.NewNetNS(t))
	setUp(t, p, pod)

	wantAll := map[string]any{
		"portMappings": []map[string]any{
			{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"},
			{"hostPort": 53, "containerPort": 53, "protocol": "tcp"},
		},
		"bandwidth":                         map[string]any{"ingressRate": 1, "ingressBurst": 0, "egressRate": 2, "egressBurst": 0},
		"ipRanges":                          [][]map[string]any{{{"subnet": "10.1.0.0/16"}}},
		"cgroupPath":                        "/kubepods/x",
		"io.kubernetes.cri.pod-annotations": map[string]string{"k": "v"},
		"ips":                               []string{"10.1.1.1/24"},
		"mac":                               "02:00:00:00:00:01",
		"dns":                               map[string]any{"servers": []string{"10.0.0.10"}, "searches": []string{"svc"}},
		"deviceID":                          "0000:00:01.0",
		"infinibandGUID":                    "c2:11:22:33:44:55:66:77",
		// The pod-wide map, with network a's own list replacing its entry.
		"aliases": map[string][]string{"a": {"web-a"}, "b": {"y", "z"}},
	}
	got := testutil.StdinConf(t, testutil.LastCall(t, allP.debug).CmdArgs.StdinData)["runtimeConfig"]
	if want := asJSONValue(t, wantAll); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin declaring every capability got runtimeConfig\n %v\nwant %v", got, want)
	}
	got = testutil.StdinConf(t, testutil.LastCall(t, someP.debug).CmdArgs.StdinData)["runtimeConfig"]
	if want := asJSONValue(t, map[string]any{"portMappings": wantAll["portMappings"]}); !reflect.DeepEqual(got, want) {
		t.Fatalf("plugin declaring portMappings got runtimeConfig %v, want %v", got, want)
	}
	if rc, ok := testutil.StdinConf(t, testutil.LastCall(t, noneP.debug).CmdArgs.StdinData)["runtimeConfig"]; ok {
		t.Fatalf("plugin declaring no capability got runtimeConfig %v", rc)
	}
	// Network b has no RuntimeConfig of its own: only the pod-wide aliases.
	got = testutil.StdinConf(t, testutil.LastCall(t, bP.debug).CmdArgs.StdinData)["runtimeConfig"]
	if want := asJSONValue(t, map[string]any{"aliases": map[string][]string{"a": {"x"}, "b": {"y", "z"}}}); !reflect.DeepEqual(got, want) {
		t.Fatalf("network b got runtimeConfig %v, want %v", got, want)
	}
}

func TestCNIArgs(t *testing.T) {
	cases := []struct {
		name string
		opts []Option
		rc   map[string]RuntimeConfig
		want map[string]string
	}{
		{"kubernetes with IP and MAC", nil,
			map[string]RuntimeConfig{"a": {IP: "10.1.1.1", MAC: "02:00:00:00:00:01"}},
			map[string]string{
				"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web",
				"K8S_POD_INFRA_CONTAINER_ID": "c1", "K8S_POD_UID": "u1", "IP": "10.1.1.1", "MAC": "02:00:00:00:00:01",
			}},
		{"kubernetes", nil, nil, map[string]string{
			"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "prod", "K8S_POD_NAME": "web",
			"K8S_POD_INFRA_CONTAINER_ID": "c1", "K8S_POD_UID": "u1",
		}},
		{"no kubernetes args, IP", []Option{WithKubernetesArgs(false)},
			map[string]RuntimeConfig{"a": {IP: "10.1.1.1"}},
			map[string]string{"IgnoreUnknown": "1", "IP": "10.1.1.1"}},
		{"no kubernetes args", []Option{WithKubernetesArgs(false)}, nil, map[string]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			np := e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
			p := e.plugin(append([]Option{WithWatch(false)}, c.opts...)...)
			pod := PodNetwork{Name: "web", Namespace: "prod", ID: "c1", UID: "u1", NetNS: testutil.NewNetNS(t), RuntimeConfig: c.rc}
			setUp(t, p, pod)
			args := testutil.LastCall(t, np.debug).CmdArgs.Args
			if got := parseCNIArgs(args); !reflect.DeepEqual(got, c.want) {
				t.Fatalf("CNI_ARGS = %q, want %v", args, c.want)
			}
			if len(c.want) > 0 && !strings.HasPrefix(args, "IgnoreUnknown=1;") {
				t.Fatalf("CNI_ARGS = %q, want IgnoreUnknown=1 first", args)
			}
		})
	}
}

func TestInvalidRuntimeConfigRefused(t *testing.T) {
	e := newEnv(t)
	np := e.noopNet("10-a.conflist", "a", "1.0.0", "10.0.0.1", "")
	p := e.plugin(WithWatch(false))
	ns := testutil.NewNetNS(t)
	for name, rc := range map[string]RuntimeConfig{
		"IP":             {IP: "10.1.1"},
		"MAC":            {MAC: "zz"},
		"ips":            {IPs: []string{"nope/24"}},
		"host port":      {PortMappings: []PortMapping{{HostPort: 0, ContainerPort: 80}}},
		"protocol":       {PortMappings: []PortMapping{{HostPort: 80, ContainerPort: 80, Protocol: "icmp"}}},
		"host IP":        {PortMappings: []PortMapping{{HostPort: 80, ContainerPort: 80, HostIP: "x"}}},
		"ipRanges":       {IpRanges: [][]IpRange{{{Subnet: "10.0.0.0"}}}},
		"container port": {PortMappings: []PortMapping{{HostPort: 80, ContainerPort: 70000}}},
	} {
		_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: ns, RuntimeConfig: map[string]RuntimeConfig{"a": rc}})
		if !errors.Is(err, ErrInvalidPodNetwork) {
			t.Errorf("%s: err = %v, want ErrInvalidPodNetwork", name, err)
		}
	}
	if got := testutil.Commands(t, np.log); len(got) != 0 {
		t.Fatalf("plugin ran for refused runtime configs: %v", got)
	}
}
