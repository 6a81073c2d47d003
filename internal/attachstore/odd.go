package attachstore

import (
	"errors"
	"io"
	"os"
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
