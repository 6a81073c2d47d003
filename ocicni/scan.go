package ocicni

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
)

// scanDirs fingerprints the conf dir and the plugin dirs by listing and
// stat (following symlinks, so a swapped ConfigMap ..data link or a replaced
// symlink target shows). It reads no file content and execs nothing; an
// unchanged fingerprint means a reload would find nothing new.
func (p *Plugin) scanDirs() string {
	h := sha256.New()
	scanDir(h, p.opts.confDir)
	for _, d := range p.opts.binDirs {
		scanDir(h, d)
	}
	return string(h.Sum(nil))
}

func scanDir(h interface{ Write([]byte) (int, error) }, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		fmt.Fprintf(h, "%s\x00err %v\x00", dir, err)
		return
	}
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
		fmt.Fprintf(h, "%v\x00", stampOf(p, fi))
	}
}
