package ocicni

import "testing"

// BenchmarkReloadWatched500 is BenchmarkReloadCached500's reload as the
// inotify watcher does it: with watching on, the directory fingerprint is
// not needed.
func BenchmarkReloadWatched500(b *testing.B) {
	p := plugin500(b)
	if p.watch.polling.Load() {
		b.Skip("inotify unavailable; the watcher polls")
	}
	execs := p.versionExecs()
	for b.Loop() {
		p.reload(p.life)
	}
	b.ReportMetric(float64(p.versionExecs()-execs), "execs")
}
