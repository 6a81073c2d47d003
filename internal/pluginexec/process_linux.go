package pluginexec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ownGroup starts the plugin as the leader of a new process group and has
// cancellation kill the whole group, not just the plugin's own PID.
func ownGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error { return killGroup(c.Process.Pid) }
}

// niceGroup sets the niceness of every process of group pgid; children
// the plugin starts later inherit it.
func niceGroup(pgid, nice int) error {
	return syscall.Setpriority(syscall.PRIO_PGRP, pgid, nice)
}

func killGroup(pgid int) error {
	err := syscall.Kill(-pgid, syscall.SIGKILL)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// endGroup kills process group pgid and waits, up to bound, until no
// member of it is alive. The members are not our children (only the leader
// was, and it has been waited for), so they cannot be waited for; /proc
// tells when they are gone. Zombies count as gone: they run nothing.
func endGroup(pgid int, bound time.Duration) error {
	deadline := time.Now().Add(bound)
	delay := 200 * time.Microsecond
	for {
		if err := killGroup(pgid); err != nil {
			return err
		}
		if !groupAlive(pgid) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process group %d still has live members %s after SIGKILL", pgid, bound)
		}
		time.Sleep(delay)
		delay = min(2*delay, 10*time.Millisecond)
	}
}

// groupAlive reports whether any non-zombie process is in group pgid.
func groupAlive(pgid int) bool {
	if errors.Is(syscall.Kill(-pgid, 0), syscall.ESRCH) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// After the command name, which may hold spaces and parentheses:
		// ") state ppid pgrp ...".
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		f := bytes.Fields(stat[i+1:])
		if len(f) < 3 || f[0][0] == 'Z' || f[0][0] == 'X' {
			continue
		}
		if g, err := strconv.Atoi(string(f[2])); err == nil && g == pgid {
			return true
		}
	}
	return false
}

// awaitExit blocks until process pid has exited, leaving it unreaped, so
// its PID, and the group ID it leads, stay taken until it is waited for.
func awaitExit(pid int) error {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err
		}
	}
}
