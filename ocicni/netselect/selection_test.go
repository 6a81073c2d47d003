package netselect

import (
	"errors"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// Apply gives the pod the selection's networks in order and adds the
// selected networks' settings to the pod's own, leaving the caller's pod
// and map untouched.
func TestApplyMergesRuntimeConfig(t *testing.T) {
	sel := mustParse(t, `[{"name":"datanet","ips":["10.1.0.5/24"]},{"name":"storage","interface":"st0"}]`)
	own := map[string]ocicni.RuntimeConfig{"podnet": {PortMappings: []ocicni.PortMapping{{HostPort: 8080, ContainerPort: 80}}}}
	pod := ocicni.PodNetwork{Name: "p", Namespace: "ns", ID: "sb1", NetNS: "/run/netns/p", RuntimeConfig: own}

	got, err := sel.Apply(pod)
	if err != nil {
		t.Fatal(err)
	}
	wantNets := []ocicni.NetAttachment{{Name: "podnet", Ifname: "eth0"}, {Name: "datanet", Ifname: "net1"}, {Name: "storage", Ifname: "st0"}}
	if !reflect.DeepEqual(got.Networks, wantNets) {
		t.Fatalf("Networks = %+v, want %+v", got.Networks, wantNets)
	}
	wantRC := map[string]ocicni.RuntimeConfig{
		"podnet":  own["podnet"],
		"datanet": {IPs: []string{"10.1.0.5/24"}},
	}
	if !reflect.DeepEqual(got.RuntimeConfig, wantRC) {
		t.Fatalf("RuntimeConfig = %+v, want %+v", got.RuntimeConfig, wantRC)
	}
	if len(own) != 1 || pod.Networks != nil {
		t.Fatalf("Apply changed the caller's pod: networks %v, RuntimeConfig %v", pod.Networks, own)
	}
	if got.ID != pod.ID || got.NetNS != pod.NetNS || got.Name != pod.Name {
		t.Fatalf("Apply lost the pod's identity: %+v", got)
	}
}

func TestApplyRefuses(t *testing.T) {
	sel := mustParse(t, `[{"name":"datanet","mac":"02:00:00:00:00:07"}]`)
	for _, tc := range []struct {
		name string
		sel  Selection
		pod  ocicni.PodNetwork
	}{
		{name: "empty selection", sel: Selection{}, pod: ocicni.PodNetwork{ID: "sb1"}},
		{name: "pod lists networks", sel: sel, pod: ocicni.PodNetwork{ID: "sb1", Networks: []ocicni.NetAttachment{{Name: "podnet"}}}},
		{name: "pod configures the same network", sel: sel, pod: ocicni.PodNetwork{ID: "sb1",
			RuntimeConfig: map[string]ocicni.RuntimeConfig{"datanet": {IP: "10.0.0.9"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.sel.Apply(tc.pod); !errors.Is(err, ocicni.ErrInvalidPodNetwork) {
				t.Fatalf("Apply error %v, want ErrInvalidPodNetwork", err)
			}
		})
	}
}

// An empty entry for a network in the pod's RuntimeConfig is no conflict.
func TestApplyOverEmptyRuntimeConfig(t *testing.T) {
	sel := mustParse(t, `[{"name":"datanet","mac":"02:00:00:00:00:07"}]`)
	got, err := sel.Apply(ocicni.PodNetwork{ID: "sb1", RuntimeConfig: map[string]ocicni.RuntimeConfig{"datanet": {}}})
	if err != nil {
		t.Fatal(err)
	}
	if got.RuntimeConfig["datanet"].MAC != "02:00:00:00:00:07" {
		t.Fatalf("datanet RuntimeConfig = %+v, want the selection's MAC", got.RuntimeConfig["datanet"])
	}
}
