package chaos

import (
	"testing"

	"github.com/netplumb/ocicni/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }
