package main

import (
	"bytes"
	"os"
	"testing"
)

// The demo's embedded default network is the shared sample in testdata,
// which the documentation describes, byte for byte.
func TestEmbeddedDefaultIsTheSharedSample(t *testing.T) {
	shared, err := os.ReadFile("../../testdata/net.d/10-demo.conflist")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(defaultConflist, shared) {
		t.Fatal("examples/demo/default.conflist differs from testdata/net.d/10-demo.conflist; keep them one file's bytes")
	}
}
