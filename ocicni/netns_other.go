//go:build !linux

package ocicni

import (
	"errors"

	cnitypes "github.com/containernetworking/cni/pkg/types"
)

var errNotLinux = errors.New("network namespaces exist only on Linux")

func checkNetNS(string) error { return errNotLinux }

func bringUpLoopback(string) error { return errNotLinux }

func readNetNSResult(string, string, string) (cnitypes.Result, error) { return nil, errNotLinux }

func netnsIdentity(string) string { return "" }

func isRuntimeNetNS(string) bool { return false }
