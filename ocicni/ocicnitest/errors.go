package ocicnitest

import (
	"context"
	"errors"
	"fmt"

	"github.com/netplumb/ocicni/ocicni"
)

// withCtxErr adds the context's verdict to err the way the real plugin
// reports a plugin killed by its context: a deadline also matches
// ocicni.ErrPluginTimeout.
func withCtxErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	switch {
	case cerr == nil:
		return err
	case errors.Is(cerr, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w: %w", err, ocicni.ErrPluginTimeout, cerr)
	case errors.Is(err, cerr):
		return err
	default:
		return fmt.Errorf("%w: %w", err, cerr)
	}
}

// invalidf builds an error matching ocicni.ErrInvalidPodNetwork.
func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ocicni.ErrInvalidPodNetwork, fmt.Sprintf(format, args...))
}

// podName names a pod as the real plugin's OpError does.
func podName(pod *ocicni.PodNetwork) string {
	if pod.Namespace == "" && pod.Name == "" {
		return pod.ID
	}
	return pod.Namespace + "/" + pod.Name
}
