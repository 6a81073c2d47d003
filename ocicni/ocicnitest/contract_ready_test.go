package ocicnitest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/internal/testutil"
	"github.com/netplumb/ocicni/ocicni"
	"github.com/netplumb/ocicni/ocicni/ocicnitest"
)

// The STATUS codes 50 and 51 match their own sentinels in the fake as in
// the real plugin, so a runtime's tests against the fake see what it will.
func TestContractReadyCodesFake(t *testing.T) { runReadyContract(t, newFakeSubject) }

func TestContractReadyCodesReal(t *testing.T) {
	testutil.RequireRoot(t)
	runReadyContract(t, newRealSubject)
}

func runReadyContract(t *testing.T, newSubject func(*testing.T) *subject) {
	for _, tc := range []struct {
		code             uint
		unavail, limited bool
	}{{50, true, false}, {51, false, true}, {52, false, false}} {
		t.Run(fmt.Sprint("Code", tc.code), func(t *testing.T) {
			s := newSubject(t)
			s.fail(netA, ocicnitest.VerbStatus, tc.code)
			// The real plugin asks STATUS in the background.
			testutil.Eventually(t, 10*time.Second, func() bool { return s.plugin.Status() != nil }, "the STATUS fault never showed")
			err := s.plugin.Status()
			var ce *cnitypes.Error
			if !errors.Is(err, ocicni.ErrNotReady) || !errors.As(err, &ce) || ce.Code != tc.code ||
				errors.Is(err, ocicni.ErrNetworkUnavailable) != tc.unavail || errors.Is(err, ocicni.ErrLimitedConnectivity) != tc.limited {
				t.Fatalf("Status = %v; want code %d, unavailable %v, limited %v", err, tc.code, tc.unavail, tc.limited)
			}
		})
	}
}
