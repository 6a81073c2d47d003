package attachstore

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
)

// The temporary file of a live writer, another process, stays through
// Sweep; once that process is killed, Sweep removes it. A file naming the
// live PID with another start time is a dead writer's whose PID was
// reused, and goes. The old Sweep removed every other process's file, so a
// runtime restarting while the old one still tore pods down deleted that
// one's in-flight record (issue 17.10).
func TestSweepRemovesOnlyFilesOfGoneWriters(t *testing.T) {
	s := New(t.TempDir())
	if err := os.MkdirAll(s.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	writer := exec.Command("sleep", "600")
	if err := writer.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { writer.Process.Kill(); writer.Wait() })
	pid := writer.Process.Pid
	start := procStart(pid)
	if start == "" {
		t.Fatal("no start time for a running process")
	}
	live := fmt.Sprintf("%s%d-%s-123", tempPrefix, pid, start)
	reused := fmt.Sprintf("%s%d-%s1-456", tempPrefix, pid, start)
	for _, n := range []string{live, reused} {
		if err := os.WriteFile(filepath.Join(s.Dir(), n), []byte("{"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if removed, _, _ := s.Sweep(); !reflect.DeepEqual(removed, []string{reused}) {
		t.Fatalf("Sweep removed %v while the writer runs, want %v alone", removed, reused)
	}
	if err := writer.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	writer.Wait()
	if removed, _, _ := s.Sweep(); !reflect.DeepEqual(removed, []string{live}) {
		t.Fatalf("Sweep removed %v once the writer was killed, want %v", removed, live)
	}
}
