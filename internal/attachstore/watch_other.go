//go:build !linux

package attachstore

import "errors"

// watcher is Linux-only; elsewhere the index lists the directory on every
// lookup.
type watcher struct{}

func openWatch(string) (*watcher, error) { return nil, errors.New("not supported") }

func (*watcher) drain(func(string)) bool { return false }

func (*watcher) close() {}
