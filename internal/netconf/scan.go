package netconf

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// racyWindow is how recently a file may have changed for its stamp to be
// distrusted. Kernels before 6.13 stamp files from a clock that advances
// once per tick (up to 10 ms), so a same-size rewrite within that tick
// leaves size, mtime and ctime as they were.
const racyWindow = 50 * time.Millisecond

// scanDirs fingerprints the conf dir and the plugin dirs by listing and
// stat (following symlinks, so a swapped ConfigMap ..data link or a replaced
// symlink target shows). It reads no file content and execs nothing; an
// unchanged fingerprint means a reload would find nothing new, unless racy
// is set: then some entry changed too recently for its stamp to show a
// further change.
func (s *Source) scanDirs() (fingerprint string, racy bool) {
	h := sha256.New()
	since := time.Now().Add(-racyWindow).UnixNano()
	racy = scanDir(h, s.cfg.ConfDir, since)
	for _, d := range s.cfg.BinDirs {
		racy = scanDir(h, d, since) || racy
	}
	return string(h.Sum(nil)), racy
}

func scanDir(h interface{ Write([]byte) (int, error) }, dir string, since int64) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(h, "%s\x00err %v\x00", dir, err)
		return false
	}
	racy := false
	if fi, err := os.Stat(dir); err == nil {
		fmt.Fprintf(h, "%s\x00%v\x00", dir, stampOf(dir, fi))
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(h, "%s\x00err %v\x00", p, err)
			continue
		}
		st := stampOf(p, fi)
		racy = racy || st.mtime >= since || st.ctime >= since
		fmt.Fprintf(h, "%v\x00", st)
	}
	return racy
}
