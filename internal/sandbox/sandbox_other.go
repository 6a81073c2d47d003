//go:build !linux

package sandbox

import "errors"

// ErrUnsupported is what every call returns off Linux, where there are no
// network namespaces to build a sandbox from.
var ErrUnsupported = errors.New("sandbox: needs Linux network namespaces")

// Inside is always false off Linux.
func Inside(string) bool { return false }

// Reexec fails with ErrUnsupported off Linux.
func Reexec(string) (int, error) { return 0, ErrUnsupported }

// MountTmpfs fails with ErrUnsupported off Linux.
func MountTmpfs(string, ...string) error { return ErrUnsupported }

// LoopbackUp fails with ErrUnsupported off Linux.
func LoopbackUp() error { return ErrUnsupported }

// BindDir fails with ErrUnsupported off Linux.
func BindDir(string, string) error { return ErrUnsupported }

// CreateNetNS fails with ErrUnsupported off Linux.
func CreateNetNS(string) (string, error) { return "", ErrUnsupported }

// DeleteNetNS fails with ErrUnsupported off Linux.
func DeleteNetNS(string) error { return ErrUnsupported }

// InNetNS fails with ErrUnsupported off Linux without running fn.
func InNetNS(string, func() error) error { return ErrUnsupported }

// CountLinks fails with ErrUnsupported off Linux.
func CountLinks(string) (int, error) { return 0, ErrUnsupported }
