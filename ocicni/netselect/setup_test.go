package netselect

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/netplumb/ocicni/ocicni"
)

// Without default-route, SetUp hands the plugin the applied pod and
// returns its results.
func TestSetUpPassesTheAppliedPod(t *testing.T) {
	sel := mustParse(t, `[{"name":"datanet","ips":["10.1.0.5/24"]}]`)
	p := &recordingPlugin{}
	pod := ocicni.PodNetwork{ID: "sb1", NetNS: "/run/netns/none"}
	res, err := SetUp(context.Background(), p, pod, sel)
	if err != nil {
		t.Fatal(err)
	}
	applied, _ := sel.Apply(pod)
	if len(p.setups) != 1 || !reflect.DeepEqual(p.setups[0], applied) {
		t.Fatalf("plugin set up %+v, want %+v", p.setups, applied)
	}
	if len(res) != 2 || res[1].Name != "datanet" || res[1].Ifname != "net1" || len(p.teardowns) != 0 {
		t.Fatalf("results %+v, teardowns %d", res, len(p.teardowns))
	}
}

// A selection Apply refuses never reaches the plugin; a failed setup is
// returned as is, since the plugin rolled it back already.
func TestSetUpRefusalsAndFailures(t *testing.T) {
	sel := mustParse(t, "datanet")
	p := &recordingPlugin{}
	_, err := SetUp(context.Background(), p, ocicni.PodNetwork{ID: "sb1", Networks: []ocicni.NetAttachment{{Name: "podnet"}}}, sel)
	if !errors.Is(err, ocicni.ErrInvalidPodNetwork) || len(p.setups) != 0 {
		t.Fatalf("error %v after %d setups, want ErrInvalidPodNetwork before any", err, len(p.setups))
	}
	boom := errors.New("ADD failed")
	p = &recordingPlugin{setupErr: boom}
	if _, err := SetUp(context.Background(), p, ocicni.PodNetwork{ID: "sb1"}, sel); !errors.Is(err, boom) || len(p.teardowns) != 0 {
		t.Fatalf("error %v with %d teardowns, want the setup error and none", err, len(p.teardowns))
	}
}

// When the default route cannot be set, SetUp tears down exactly the
// networks it set up, and says why; a failed teardown joins the error.
func TestSetUpRollsBackWhenTheRouteFails(t *testing.T) {
	sel := mustParse(t, `[{"name":"datanet","default-route":["10.1.0.1"]}]`)
	pod := ocicni.PodNetwork{ID: "sb1", NetNS: filepath.Join(t.TempDir(), "gone")}
	applied, _ := sel.Apply(pod)

	p := &recordingPlugin{}
	if _, err := SetUp(context.Background(), p, pod, sel); err == nil {
		t.Fatal("SetUp succeeded with a netns that does not exist")
	}
	if len(p.teardowns) != 1 || !reflect.DeepEqual(p.teardowns[0], applied) {
		t.Fatalf("teardowns %+v, want one of %+v", p.teardowns, applied)
	}

	tearErr := errors.New("DEL failed")
	p = &recordingPlugin{teardownErr: tearErr}
	if _, err := SetUp(context.Background(), p, pod, sel); !errors.Is(err, tearErr) {
		t.Fatalf("error %v does not carry the teardown failure", err)
	}
}
