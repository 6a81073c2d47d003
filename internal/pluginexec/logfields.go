package pluginexec

import (
	"context"
	"strings"

	"github.com/sirupsen/logrus"
)

type logFieldsKey struct{}

// WithLogFields returns a ctx carrying f on top of the fields ctx already
// carries. The Runner adds them to every log line about a plugin it runs
// under that ctx, so a plugin's stderr names the pod and network.
func WithLogFields(ctx context.Context, f logrus.Fields) context.Context {
	if prev, ok := ctx.Value(logFieldsKey{}).(logrus.Fields); ok {
		merged := make(logrus.Fields, len(prev)+len(f))
		for k, v := range prev {
			merged[k] = v
		}
		for k, v := range f {
			merged[k] = v
		}
		f = merged
	}
	return context.WithValue(ctx, logFieldsKey{}, f)
}

// LogFields returns the fields WithLogFields put in ctx, or nil.
func LogFields(ctx context.Context) logrus.Fields {
	f, _ := ctx.Value(logFieldsKey{}).(logrus.Fields)
	return f
}

func logStderr(log logrus.FieldLogger, stderr []byte, failed bool) {
	msg := strings.TrimSpace(string(stderr))
	if msg == "" {
		return
	}
	l := log.WithField("stderr", msg)
	if failed {
		l.Warn("plugin wrote to stderr")
	} else {
		l.Debug("plugin wrote to stderr")
	}
}
