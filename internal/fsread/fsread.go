// Package fsread reads the small files the library finds in directories
// others can write to (the conf dir, the CNI cache): without blocking on a
// FIFO, regular files only, and never more than a cap, so a stray special
// file cannot hang a caller and a huge or sparse one cannot eat memory. It
// knows nothing of what the files hold.
package fsread

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

var (
	// ErrNotRegular is matched by the error for a directory, FIFO, socket
	// or device.
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is matched by the error for a file over the cap.
	ErrTooLarge = errors.New("over the size limit")
)

// Error says why a file was refused; errors.Is matches its kind.
type Error struct {
	kind error
	msg  string
}

func (e *Error) Error() string { return e.msg }

// Unwrap returns ErrNotRegular or ErrTooLarge.
func (e *Error) Unwrap() error { return e.kind }

// Regular reads the regular file at path, refusing other types and files
// over max bytes. It opens without blocking, because opening a FIFO for
// reading otherwise waits for a writer forever; the type check then
// refuses the FIFO. With noFollow, a symlink at path is refused too
// (syscall.ELOOP) rather than followed.
func Regular(path string, max int64, noFollow bool) ([]byte, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK
	if noFollow {
		flags |= syscall.O_NOFOLLOW
	}
	f, err := os.OpenFile(path, flags, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot stat: %w", err)
	}
	if fi.IsDir() {
		return nil, &Error{ErrNotRegular, "is a directory, not a file"}
	}
	if !fi.Mode().IsRegular() {
		return nil, &Error{ErrNotRegular, fmt.Sprintf("is not a regular file (%s)", fi.Mode().Type())}
	}
	if fi.Size() > max {
		return nil, &Error{ErrTooLarge, fmt.Sprintf("is %d bytes, over the %d-byte limit", fi.Size(), max)}
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read: %w", err)
	}
	if int64(len(data)) > max {
		return nil, &Error{ErrTooLarge, fmt.Sprintf("grew past the %d-byte limit while being read", max)}
	}
	return data, nil
}
