package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

// Inside reports whether this process is the copy that Reexec started
// with env set, that is, whether it already runs in the throwaway
// namespaces.
func Inside(env string) bool { return os.Getenv(env) != "" }

// Reexec runs this program again, with the same arguments and standard
// streams, under `unshare --net --mount --propagation private`, with env=1
// added to its environment so the copy can tell (see Inside). It waits for
// the copy and returns its exit code. The error is non-nil only when the
// copy could not be run at all; the code is then meaningless.
func Reexec(env string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		return 0, errors.New("needs unshare (Debian package util-linux) to make a throwaway network namespace")
	}
	args := append([]string{"--net", "--mount", "--propagation", "private", "--", self}, os.Args[1:]...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env+"=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), nil
		}
		return 0, fmt.Errorf("running under unshare: %w", err)
	}
	return 0, nil
}

// MountTmpfs creates each dir and mounts a private tmpfs of the given size
// (for example "64m") on it. Called inside the re-executed copy, the
// mounts hide whatever the machine keeps there and vanish with the copy.
func MountTmpfs(size string, dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", d, "tmpfs", 0, "size="+size); err != nil {
			return fmt.Errorf("mounting a tmpfs on %s: %w", d, err)
		}
	}
	return nil
}

// BindDir creates dst and bind-mounts src on it. Called inside the
// re-executed copy, the mount hides whatever the machine keeps at dst and
// vanishes with the copy; what is written lands in src.
func BindDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind-mounting %s on %s: %w", src, dst, err)
	}
	return nil
}

// LoopbackUp brings up the loopback interface of the calling thread's
// network namespace, which a fresh namespace starts with down.
func LoopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}
