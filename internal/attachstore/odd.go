package attachstore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// odd reports whether what is at path, not a regular file, is one Clear
// can remove without reading or opening it: anything but a directory that
// is not empty.
func odd(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	if !fi.IsDir() {
		return true
	}
	d, err := os.Open(path)
	if err != nil {
		return false
	}
	defer d.Close()
	_, err = d.Readdirnames(1)
	return errors.Is(err, io.EOF)
}

// Defuse turns every FIFO, socket and device at an entry's path into an
// empty file, and returns their names: libcni, handed the GC verb, reads
// every entry whole first and would block on a FIFO or read a device
// without end. Each stays a damaged entry of whichever sandbox its name
// reads as, whose teardown DELs it. The caller keeps ADD and DEL out
// meanwhile, so no entry that a DEL has just removed comes back.
func (s *Store) Defuse() []string {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || e.Type().IsRegular() || e.IsDir() || e.Type()&os.ModeSymlink != 0 {
			continue
		}
		// Renamed over, never opened.
		if err := s.replace(filepath.Join(s.dir, name), nil, false); err == nil {
			out = append(out, name)
		}
	}
	return out
}
