package main

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

func TestCnitoolContainerIDMatchesCnitool(t *testing.T) {
	// sha512sum of the path, first 10 bytes: what cnitool names the sandbox.
	if got, want := cnitoolContainerID("/run/netns/pod1"), "cnitool-eb69d96616c204ff963c"; got != want {
		t.Fatalf("cnitoolContainerID = %s, want %s", got, want)
	}
}

func TestPodRequestDefaults(t *testing.T) {
	inv := parseOK(t, env{}, "add", "mynet", "/run/netns/pod1")
	req, err := inv.podRequest()
	if err != nil {
		t.Fatal(err)
	}
	want := ocicni.PodNetwork{
		ID:            "cnitool-eb69d96616c204ff963c",
		NetNS:         "/run/netns/pod1",
		Networks:      []ocicni.NetAttachment{{Name: "mynet", Ifname: "eth0"}},
		RuntimeConfig: map[string]ocicni.RuntimeConfig{"mynet": {}},
	}
	if !reflect.DeepEqual(req.pod, want) {
		t.Fatalf("pod = %+v\nwant %+v", req.pod, want)
	}
	if req.kubernetesArgs {
		t.Fatal("K8S_POD_* keys would be sent although CNI_ARGS named none")
	}
}

func TestPodRequestRelativeNetNSIsMadeAbsolute(t *testing.T) {
	t.Chdir("/tmp")
	req, err := parseOK(t, env{}, "status", "mynet", "x/ns").podRequest()
	if err != nil {
		t.Fatal(err)
	}
	if req.pod.NetNS != "/tmp/x/ns" || req.pod.ID != "cnitool-696b25456c701c22630f" {
		t.Fatalf("netns %s id %s, want /tmp/x/ns and the ID derived from it", req.pod.NetNS, req.pod.ID)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	e := env{
		"CNI_IFNAME": "net1", "CNI_CONTAINERID": "from-env", "NETCONFPATH": "/env/conf",
		"CNI_PATH": "/a:/b", "CNI_ARGS": "IP=10.0.0.9", "CAP_ARGS": `{"mac":"02:00:00:00:00:01"}`,
	}
	inv := parseOK(t, e, "add", "mynet", "/run/netns/p")
	if inv.ifname != "net1" || inv.containerID != "from-env" || inv.confDir != "/env/conf" ||
		!reflect.DeepEqual(inv.binDirList(), []string{"/a", "/b"}) {
		t.Fatalf("environment not used: %+v", inv)
	}
	inv = parseOK(t, e, "add", "--ifname", "net2", "mynet", "--container-id=from-flag", "/run/netns/p",
		"--conf-dir", "/flag/conf", "--bin-dir", "/c", "--args", "", "--cap-args", "")
	req, err := inv.podRequest()
	if err != nil {
		t.Fatal(err)
	}
	rc := req.pod.RuntimeConfig["mynet"]
	if req.pod.ID != "from-flag" || req.pod.Networks[0].Ifname != "net2" || inv.confDir != "/flag/conf" ||
		!reflect.DeepEqual(inv.binDirList(), []string{"/c"}) || rc.IP != "" || rc.MAC != "" {
		t.Fatalf("flags did not override the environment: %+v %+v", inv, req.pod)
	}
}

func TestCNIArgsMapToPodFields(t *testing.T) {
	e := env{"CNI_ARGS": "IgnoreUnknown=1;IP=10.1.2.3;MAC=02:42:ac:11:00:02;K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=web;K8S_POD_UID=u-1;K8S_POD_INFRA_CONTAINER_ID=sandbox1"}
	req, err := parseOK(t, e, "add", "mynet", "/run/netns/p").podRequest()
	if err != nil {
		t.Fatal(err)
	}
	rc := req.pod.RuntimeConfig["mynet"]
	if rc.IP != "10.1.2.3" || rc.MAC != "02:42:ac:11:00:02" {
		t.Fatalf("IP/MAC not mapped: %+v", rc)
	}
	if req.pod.Namespace != "ns1" || req.pod.Name != "web" || req.pod.UID != "u-1" || req.pod.ID != "sandbox1" {
		t.Fatalf("K8S_POD_* not mapped: %+v", req.pod)
	}
	if !req.kubernetesArgs {
		t.Fatal("K8S_POD_* keys given but the library would not send them")
	}
}

func TestCNIArgsRefused(t *testing.T) {
	for _, tc := range []struct{ name, env, flagID, want string }{
		{"unknown key", "FOO=bar", "", `key "FOO" cannot be passed`},
		{"no value", "IP=", "", `"IP=" is not KEY=VALUE`},
		{"no equals", "IP", "", `"IP" is not KEY=VALUE`},
		{"two equals", "IP=a=b", "", `is not KEY=VALUE`},
		{"infra ID differs", "K8S_POD_INFRA_CONTAINER_ID=a", "b", "differs from the container ID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"add", "mynet", "/run/netns/p"}
			if tc.flagID != "" {
				args = append(args, "--container-id", tc.flagID)
			}
			_, err := parseOK(t, env{"CNI_ARGS": tc.env}, args...).podRequest()
			assertUsageError(t, err, tc.want)
		})
	}
}

func TestCapArgsMapToRuntimeConfig(t *testing.T) {
	e := env{"CAP_ARGS": `{
		"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
		"bandwidth": {"ingressRate": 1000, "ingressBurst": 10, "egressRate": 2000, "egressBurst": 20},
		"ipRanges": [[{"subnet": "10.9.0.0/24"}]],
		"cgroupPath": "/kubepods/pod1",
		"io.kubernetes.cri.pod-annotations": {"a": "b"},
		"ips": ["10.9.0.5/24"],
		"mac": "02:00:00:00:00:05",
		"dns": {"servers": ["10.0.0.10"], "searches": ["svc"], "options": ["ndots:5"]},
		"deviceID": "0000:00:1f.0",
		"infinibandGUID": "c2:11:22:33:44:55:66:77",
		"aliases": {"mynet": ["web"]}
	}`}
	req, err := parseOK(t, e, "add", "mynet", "/run/netns/p").podRequest()
	if err != nil {
		t.Fatal(err)
	}
	annotations := map[string]string{"a": "b"}
	want := ocicni.RuntimeConfig{
		PortMappings:   []ocicni.PortMapping{{HostPort: 8080, ContainerPort: 80, Protocol: "tcp"}},
		Bandwidth:      &ocicni.BandwidthConfig{IngressRate: 1000, IngressBurst: 10, EgressRate: 2000, EgressBurst: 20},
		IpRanges:       [][]ocicni.IpRange{{{Subnet: "10.9.0.0/24"}}},
		CgroupPath:     "/kubepods/pod1",
		PodAnnotations: &annotations,
		IPs:            []string{"10.9.0.5/24"},
		MAC:            "02:00:00:00:00:05",
		DNS:            &ocicni.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"svc"}, Options: []string{"ndots:5"}},
		DeviceID:       "0000:00:1f.0",
		InfinibandGUID: "c2:11:22:33:44:55:66:77",
	}
	if got := req.pod.RuntimeConfig["mynet"]; !reflect.DeepEqual(got, want) {
		t.Fatalf("runtime config = %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(req.pod.Aliases, map[string][]string{"mynet": {"web"}}) {
		t.Fatalf("aliases = %v", req.pod.Aliases)
	}
}

func TestCapArgsRefused(t *testing.T) {
	for _, tc := range []struct{ name, cniArgs, capArgs, want string }{
		{"unknown key", "", `{"foo": 1}`, `unknown field "foo"`},
		{"not JSON", "", `{`, "CAP_ARGS"},
		{"wrong type", "", `{"portMappings": "x"}`, "CAP_ARGS"},
		{"trailing", "", `{} {}`, "trailing data"},
		{"MAC twice", "MAC=02:00:00:00:00:01", `{"mac": "02:00:00:00:00:02"}`, "differ"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseOK(t, env{"CNI_ARGS": tc.cniArgs, "CAP_ARGS": tc.capArgs}, "add", "mynet", "/run/netns/p").podRequest()
			assertUsageError(t, err, tc.want)
		})
	}
}

func assertUsageError(t *testing.T, err error, want string) {
	t.Helper()
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v is not a usage error", err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not say %q", err, want)
	}
	if exitCode(err) != exitUsage {
		t.Fatalf("exit code %d, want %d", exitCode(err), exitUsage)
	}
}
