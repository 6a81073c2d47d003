package netselect

import (
	"errors"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// Whatever the annotation, Parse either refuses it with one of the
// documented sentinels or returns a selection that SetUpPod's own checks
// accept: the default network first on eth0, unique interfaces, loaded
// networks only.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "datanet", "tenant-a/storage@st0, datanet", "a/b/c", "datanet@", "datanet,,x",
		`[{"name":"macnet","namespace":"infra","interface":"fast0","ips":["10.1.2.3/24"],"mac":"02:aa:bb:cc:dd:ee","default-route":["10.1.2.1"]}]`,
		`[{"name":"datanet","portMappings":[{"hostPort":80,"containerPort":80,"protocol":"udp"}],"bandwidth":{"ingressRate":1}}]`,
		`[null]`, `[{"name":7}]`, `{"name":"x"}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, annotation string) {
		sel, err := Parse(annotation, catalog, WithNamespace("tenant-a"))
		if err != nil {
			if !errors.Is(err, ocicni.ErrInvalidPodNetwork) && !errors.Is(err, ocicni.ErrNetworkNotFound) {
				t.Fatalf("Parse(%q) error %v matches no sentinel", annotation, err)
			}
			return
		}
		if a := sel.Attachments[0]; !a.Default || a.Network != catalog.Default || a.Ifname != "eth0" {
			t.Fatalf("Parse(%q) starts with %+v, not the default network on eth0", annotation, a)
		}
		seen := map[string]bool{}
		for _, a := range sel.Attachments {
			if seen[a.Ifname] {
				t.Fatalf("Parse(%q) gives %s twice", annotation, a.Ifname)
			}
			seen[a.Ifname] = true
			if !catalog.has(a.Network) {
				t.Fatalf("Parse(%q) selects %q, which is not loaded", annotation, a.Network)
			}
		}
		pod, err := sel.Apply(ocicni.PodNetwork{ID: "sb1"})
		if err != nil {
			t.Fatalf("Apply of Parse(%q): %v", annotation, err)
		}
		for name, rc := range pod.RuntimeConfig {
			probe := ocicni.PodNetwork{ID: "sb1", NetNS: "/proc/self/ns/net", RuntimeConfig: map[string]ocicni.RuntimeConfig{name: rc}}
			if err := ocicni.ValidatePodNetwork(probe); err != nil && !errors.Is(err, ocicni.ErrRuntimeNetNS) {
				t.Fatalf("Parse(%q) accepted settings SetUpPod refuses: %v", annotation, err)
			}
		}
	})
}
