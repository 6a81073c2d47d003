package fsread

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A FIFO, a directory, a file over the cap and (with noFollow) a symlink
// are refused at once with an error that says which; a regular file under
// the cap is read.
func TestRegular(t *testing.T) {
	dir := t.TempDir()
	path := func(n string) string { return filepath.Join(dir, n) }
	if err := syscall.Mkfifo(path("fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path("dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path("ok"), []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Create(path("big")); err != nil {
		t.Fatal(err)
	} else if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	if err := os.Symlink(path("ok"), path("link")); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]error{"fifo": ErrNotRegular, "dir": ErrNotRegular, "big": ErrTooLarge, "link": syscall.ELOOP} {
		if _, err := Regular(path(name), 5, true); !errors.Is(err, want) {
			t.Errorf("Regular(%s) error = %v, want %v", name, err, want)
		}
	}
	for _, name := range []string{"ok", "link"} {
		if data, err := Regular(path(name), 5, false); err != nil || string(data) != "12345" {
			t.Errorf("Regular(%s) = %q, %v; want its 5 bytes", name, data, err)
		}
	}
}
