package attachstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// writeDurably replaces path with data so that a crash at any instant
// leaves either the old file or the whole new one: a temporary file (0600,
// created exclusively, so never through a planted symlink) is written and
// synced, renamed over path (rename replaces a symlink rather than
// following it), and the directory is synced so the rename survives a
// power cut.
func (s *Store) writeDurably(path string, data []byte) error {
	return s.replace(path, data, true)
}

// replace is writeDurably, without the syncs unless sync is set: a crash
// still leaves the old file or the whole new one, a power cut may not.
func (s *Store) replace(path string, data []byte, sync bool) error {
	if err := s.ensureDir(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(s.dir, s.tempPattern)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if sync {
		if err := tmp.Sync(); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil || !sync {
		return err
	}
	d, err := os.Open(s.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// tempPrefix starts the names of writeDurably's temporary files, followed
// by the writer's PID and start time (see procStart), so Sweep can tell a
// live writer's file, even another process's, from a dead one's.
const tempPrefix = ".ocicni-"

// tempPattern returns the CreateTemp pattern of this process's files.
func tempPattern() string {
	return fmt.Sprintf("%s%d-%s-*", tempPrefix, os.Getpid(), procStart(os.Getpid()))
}

// tempWriterGone reports whether the writer of a temporary file, named
// after tempPrefix by rest, is gone. Files of versions that named the PID
// alone are taken as gone once no other process has that PID.
func tempWriterGone(rest string) bool {
	parts := strings.SplitN(rest, "-", 3)
	pid, err := strconv.Atoi(parts[0])
	switch {
	case err != nil:
		return true
	case len(parts) == 3:
		return writerGone(pid, parts[1])
	default:
		return pid != os.Getpid() && procStart(pid) == ""
	}
}

// Sweep removes what no entry is: the temporary files of owed entries
// whose writer died between creating and renaming them (a file of a
// process still running, another runtime finishing its teardowns while
// its successor starts say, stays; this process's own go once they are a
// minute old, far longer than a write takes). The copy Owe kept of an owed
// entry goes once its entry is gone. An entry over the size cap, which no
// entry can be, is emptied (it stays a damaged entry of whichever pod its
// name says), so that no reader, libcni's included, reads it whole. FIFOs,
// sockets, devices and empty directories at entry paths stay: they are
// damaged entries, whose attachments owe a DEL (see parseFile and Clear).
// It returns the names it removed, those it leaves that no entry
// can be (a directory that is not empty) and those it emptied.
func (s *Store) Sweep() (removed, left, emptied []string) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, nil, nil
	}
	own := strings.TrimSuffix(s.tempPattern, "*")
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasPrefix(name, own):
			if fi, err := e.Info(); err != nil || time.Since(fi.ModTime()) < time.Minute {
				continue
			}
		case strings.HasPrefix(name, tempPrefix):
			if !tempWriterGone(strings.TrimPrefix(name, tempPrefix)) {
				continue
			}
		case strings.HasPrefix(name, copyPrefix):
			// The copy of an owed entry goes with its entry (a DEL that
			// succeeded but whose Remove a kill cut short leaves it).
			if _, err := os.Lstat(filepath.Join(s.dir, strings.TrimPrefix(name, copyPrefix))); err == nil {
				continue
			}
		case e.Type().IsRegular() && !strings.HasPrefix(name, "."):
			if fi, err := e.Info(); err == nil && fi.Size() > maxEntrySize {
				if err := os.Truncate(filepath.Join(s.dir, name), 0); err == nil {
					emptied = append(emptied, name)
				}
			}
			continue
		case e.IsDir() && !strings.HasPrefix(name, "."):
			if !odd(filepath.Join(s.dir, name)) {
				left = append(left, name)
			}
			continue
		default:
			// Other hidden files, symlinks, and FIFOs, sockets and devices
			// at entry paths (damaged entries) stay.
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, name)); err == nil {
			removed = append(removed, name)
		} else if !errors.Is(err, os.ErrNotExist) {
			left = append(left, name)
		}
	}
	s.sweepArgs()
	return removed, left, emptied
}

// sweepArgs removes the arguments DropCopy kept of entries that are gone
// (a Remove cut short by a kill, an entry removed by libcni or by hand).
func (s *Store) sweepArgs() {
	names, err := listDir(s.args)
	if err != nil {
		return
	}
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(s.dir, name)); errors.Is(err, os.ErrNotExist) {
			_ = os.Remove(filepath.Join(s.args, name))
		}
	}
}

// Clear removes what is at an attachment's entry path if libcni could not
// read it as an entry without blocking or reading without bound (anything
// but a regular file, or one over the cap), before the attachment's DEL:
// libcni reads the entry there, following symlinks, and drops it when it
// cannot use it anyway. Should the DEL fail, KeepOwed then writes an owed
// entry in its place.
func (s *Store) Clear(network, id, ifname string) error {
	path := s.Path(network, id, ifname)
	fi, err := os.Lstat(path)
	if err != nil || (fi.Mode().IsRegular() && fi.Size() <= maxEntrySize) {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// errDirSymlink refuses a results directory that is a symlink: the
// entries would land wherever it points.
var errDirSymlink = errors.New("is a symlink; refusing to write attachment records through it")

// ensureDir creates the results directory 0700 (libcni's mode) when
// missing and refuses one that is a symlink or not a directory.
func (s *Store) ensureDir() error {
	fi, err := os.Lstat(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(s.dir, 0o700); err != nil {
			return err
		}
		fi, err = os.Lstat(s.dir)
	}
	switch {
	case err != nil:
		return err
	case fi.Mode()&os.ModeSymlink != 0:
		return fmt.Errorf("CNI cache directory %s %w", s.dir, errDirSymlink)
	case !fi.IsDir():
		return fmt.Errorf("CNI cache directory %s is not a directory", s.dir)
	}
	return nil
}
