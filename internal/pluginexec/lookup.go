package pluginexec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Find looks a plugin type up in dirs and returns the binary's path and
// FileInfo, so a caller that stamps the binary need not stat it again.
// Unlike invoke.FindInPath it follows symlinks explicitly and refuses files
// that are not executable; the error matches ErrPluginNotFound and says
// which of the two went wrong.
func Find(plugin string, dirs []string) (string, os.FileInfo, error) {
	if plugin == "" || strings.ContainsAny(plugin, `/\`) || plugin == "." || plugin == ".." {
		return "", nil, fmt.Errorf("%w: invalid plugin type %q", errPluginNotFound, plugin)
	}
	var notExec string
	for _, d := range dirs {
		p := filepath.Join(d, plugin)
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if fi.Mode().Perm()&0o111 == 0 {
			notExec = p
			continue
		}
		return p, fi, nil
	}
	if notExec != "" {
		return "", nil, fmt.Errorf("%w: plugin %q at %s is not executable", errPluginNotFound, plugin, notExec)
	}
	return "", nil, fmt.Errorf("%w: plugin %q is missing from %s", errPluginNotFound, plugin, strings.Join(dirs, ", "))
}
