package testutil

import (
	"os"
	"os/exec"
)

// childEnv marks a copy of the test binary that a test started as a helper
// process, such as a container runtime to be killed mid-operation. It runs
// inside its parent's throwaway namespaces, sharing them, so Main neither
// re-executes it nor mounts anything again.
const childEnv = "OCICNI_TEST_CHILD"

// ChildCommand returns a command that runs this test binary's test named
// test as a helper process, with payload for ChildPayload to return. The
// command is not started.
func ChildCommand(test, payload string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+payload)
	return cmd
}

// ChildPayload returns the payload of a helper process started with
// ChildCommand, or "" in an ordinary test run.
func ChildPayload() string { return os.Getenv(childEnv) }
