package ocicni

import "testing"

// BenchmarkReloadWatched500 is BenchmarkReloadCached500's reload as the
// inotify watcher does it: with watching on, the directory fingerprint is
// not needed.
func BenchmarkReloadWatched500(b *testing.B) {
	p := plugin500(b)
	if p.conf.Stats().Polling {
		b.Skip("inotify unavailable; the watcher polls")
	}
	execs := p.conf.Stats().VersionExecs
	for b.Loop() {
		p.conf.Reload()
	}
	b.ReportMetric(float64(p.conf.Stats().VersionExecs-execs), "execs")
}
