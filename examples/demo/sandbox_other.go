//go:build !linux

package main

import (
	"errors"
	"fmt"
	"os"
)

const echoPort = 80

var errLinuxOnly = errors.New("the demo needs Linux network namespaces")

func inSandbox() bool { return false }

func reexecInSandbox() int {
	fmt.Fprintln(os.Stderr, "demo:", errLinuxOnly)
	return 1
}

func prepareSandbox() error              { return errLinuxOnly }
func createNetNS(string) (string, error) { return "", errLinuxOnly }
func deleteNetNS(string)                 {}
func tcpEcho(_, _, _, _ string) error    { return errLinuxOnly }
func countVeths() (int, error)           { return 0, errLinuxOnly }
