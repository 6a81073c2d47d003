package ocicni

import (
	"context"
	"errors"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"
	"github.com/containernetworking/cni/plugins/test/noop/debug"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestPluginErrorReachableThroughEveryWrap(t *testing.T) {
	e := newEnv(t)
	conf, np := e.noopConf(debug.Debug{ReportError: "try later", ReportErrorCode: cnitypes.ErrTryAgainLater}, "", nil)
	e.writeList("10-n.conflist", "n", "1.0.0", nil, conf)
	p := e.plugin(WithWatch(false))
	_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: testutil.NewNetNS(t)})
	var ce *cnitypes.Error
	var op *OpError
	if !errors.As(err, &op) || op.Op != "add" || op.Network != "n" || op.ID != "c1" {
		t.Fatalf("err = %v, want an *OpError for add of n", err)
	}
	if !errors.As(err, &ce) || ce.Code != cnitypes.ErrTryAgainLater || ce.Msg != "try later" {
		t.Fatalf("err = %v, want the plugin's *types.Error with code 11", err)
	}
	if !IsRetryable(err) {
		t.Fatalf("IsRetryable(%v) = false for code 11", err)
	}
	testutil.SetDebug(t, np.debug, debug.Debug{ReportError: "broken", ReportErrorCode: 4})
	// c1 still owes the DEL its failed rollback could not do, so use c2.
	if _, err := p.SetUpPod(PodNetwork{ID: "c2", NetNS: testutil.NewNetNS(t)}); IsRetryable(err) || !errors.As(err, &ce) || ce.Code != 4 {
		t.Fatalf("err = %v, want code 4 and not retryable", err)
	}
}

func TestSentinelErrors(t *testing.T) {
	e := newEnv(t)
	marks := e.slowPlugin()
	e.writeList("10-slow.conflist", "slow", "1.0.0", nil, map[string]any{"type": "slow"})
	p := e.plugin(WithWatch(false), WithPluginTimeout(300*time.Millisecond))
	ns := testutil.NewNetNS(t)

	_, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: ns})
	var op *OpError
	if !errors.Is(err, ErrPluginTimeout) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &op) {
		t.Fatalf("setup with a plugin past its deadline = %v, want ErrPluginTimeout and DeadlineExceeded in an OpError", err)
	}
	if !started(marks, "c1") {
		t.Fatal("the slow plugin never ran")
	}
	if _, err := p.SetUpPod(PodNetwork{ID: "c1", NetNS: ns, Networks: []NetAttachment{{Name: "nope"}}}); !errors.Is(err, ErrNetworkNotFound) {
		t.Fatalf("unknown network = %v, want ErrNetworkNotFound", err)
	}
	if _, err := p.SetUpPod(PodNetwork{ID: "", NetNS: ns}); !errors.Is(err, ErrInvalidPodNetwork) {
		t.Fatalf("empty ID = %v, want ErrInvalidPodNetwork", err)
	}
	empty := newEnv(t).plugin(WithWatch(false))
	if _, err := empty.SetUpPod(PodNetwork{ID: "c1", NetNS: ns}); !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrNoDefaultNetwork) {
		t.Fatalf("setup without configuration = %v, want ErrNotReady and ErrNoDefaultNetwork", err)
	}
}
