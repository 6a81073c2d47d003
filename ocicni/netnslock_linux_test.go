package ocicni

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/netplumb/ocicni/internal/sandbox"
)

// A teardown of sandbox b with nothing cached, naming the netns path that
// sandbox c is being set up in, sends its DEL without a netns while c's
// setup has computed the namespace's identity but not yet written its
// record: the old code's ownership check found no record claiming the
// namespace and sent the path, and a real plugin would have deleted c's
// new eth0 (issue 17.3, the netns-reuse race).
func TestUncheckedDelDuringSetupInSameNetNSSendsNoNetNS(t *testing.T) {
	e := newEnv(t)
	np := e.noopNet("10-n.conflist", "n", "1.0.0", "10.0.0.1", "")
	reached, release := make(chan struct{}), make(chan struct{})
	p := e.plugin(WithWatch(false), pauseSetup("c", reached, release))
	name := fmt.Sprintf("nslock%d", os.Getpid())
	path, err := sandbox.CreateNetNS(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sandbox.DeleteNetNS(name) })

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	setupErr := make(chan error, 1)
	go func() {
		_, err := p.SetUpPodWithContext(ctx, PodNetwork{Name: "c", Namespace: "ns", ID: "c", NetNS: path})
		setupErr <- err
	}()
	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatal("setup of c never reached the point before its record")
	}
	if err := p.TearDownPodWithContext(ctx, PodNetwork{Name: "b", Namespace: "ns", ID: "b", NetNS: path}); err != nil {
		t.Fatalf("teardown of b: %v", err)
	}
	close(release)
	if err := <-setupErr; err != nil {
		t.Fatalf("setup of c: %v", err)
	}
	if got, want := delNetNS(t, np.log), []string{""}; !reflect.DeepEqual(got, want) {
		t.Fatalf("DEL CNI_NETNS = %q, want %q: b's DEL went into c's namespace", got, want)
	}
	if got := e.cacheFiles(); !reflect.DeepEqual(got, []string{"n-c-eth0"}) {
		t.Fatalf("cache = %v, want c's entry alone", got)
	}
}

// pauseSetup returns an option that holds the setup of sandbox id between
// registering in its namespace and writing its records: it closes reached
// there and waits for release (or the setup's context).
func pauseSetup(id string, reached, release chan struct{}) Option {
	return func(o *options) {
		o.setupPause = func(ctx context.Context, sb string) {
			if sb != id {
				return
			}
			close(reached)
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	}
}
