package ocicni

import (
	"testing"

	"github.com/sirupsen/logrus"
)

// Without WithLogger nothing is logged, so no entry is even built: the
// default logger's level lets none through.
func TestDefaultLoggerBuildsNoEntries(t *testing.T) {
	l, ok := defaultOptions().logger.(*logrus.Logger)
	if !ok {
		t.Fatalf("default logger is a %T", defaultOptions().logger)
	}
	for _, lvl := range []logrus.Level{logrus.ErrorLevel, logrus.InfoLevel, logrus.DebugLevel} {
		if l.IsLevelEnabled(lvl) {
			t.Fatalf("the default logger formats %s entries only to discard them", lvl)
		}
	}
}
