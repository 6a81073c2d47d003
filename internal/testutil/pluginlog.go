package testutil

// What the test plugins record and are driven by: the noop plugin's debug
// file and command log, the faulty plugin's configuration and log.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/containernetworking/cni/plugins/test/noop/debug"
)

// CNICommand returns the CNI_COMMAND of a plugin's environment.
func CNICommand(environ []string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "CNI_COMMAND="); ok {
			return v
		}
	}
	return ""
}

// ResultFor is a result of the given spec version with one interface and
// one address.
func ResultFor(version, ip string) string {
	if strings.HasPrefix(version, "0.") {
		return fmt.Sprintf(`{"cniVersion":%q,"interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"version":"4","address":"%s/24","interface":0}]}`, version, ip)
	}
	return fmt.Sprintf(`{"cniVersion":%q,"interfaces":[{"name":"eth0","sandbox":"/x"}],"ips":[{"address":"%s/24","interface":0}]}`, version, ip)
}

// LastCall returns what the noop plugin driven by debugFile last received.
func LastCall(tb testing.TB, debugFile string) *debug.Debug {
	tb.Helper()
	d, err := debug.ReadDebug(debugFile)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// SetDebug rewrites a noop debug file's behaviour, keeping nothing of what
// it recorded.
func SetDebug(tb testing.TB, debugFile string, d debug.Debug) {
	tb.Helper()
	if err := d.WriteDebug(debugFile); err != nil {
		tb.Fatal(err)
	}
}

// StdinConf decodes the network configuration a plugin received on stdin.
func StdinConf(tb testing.TB, stdin []byte) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(stdin, &m); err != nil {
		tb.Fatalf("plugin stdin %q: %v", stdin, err)
	}
	return m
}

// Commands returns the CNI Commands a noop command log recorded, in order.
func Commands(tb testing.TB, logFile string) []string {
	tb.Helper()
	if data, err := os.ReadFile(logFile); err == nil && len(data) == 0 || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return firstFields(Events(tb, logFile))
}

// FaultyCommands returns just the Commands of a faulty plugin's log.
func FaultyCommands(tb testing.TB, path string) []string {
	tb.Helper()
	return firstFields(FaultyLog(tb, path))
}

// firstFields is the first word of each line.
func firstFields(lines []string) []string {
	var out []string
	for _, l := range lines {
		out = append(out, strings.Fields(l)[0])
	}
	return out
}

// Events returns a command log as "CMD network container ifname" lines, in
// the order the calls happened.
func Events(tb testing.TB, logFile string) []string {
	tb.Helper()
	data, err := os.ReadFile(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	l, err := debug.ReadCommandLog(logFile)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, c := range l {
		name, _ := StdinConf(tb, c.CmdArgs.StdinData)["name"].(string)
		out = append(out, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.Command, name, c.CmdArgs.ContainerID, c.CmdArgs.IfName)))
	}
	return out
}

// FaultyPlugin is one faulty plugin entry of a chain: faults maps a CNI
// command to the fault it acts out, and log is its command log.
func FaultyPlugin(log string, faults map[string]string, extra ...any) map[string]any {
	m := map[string]any{"type": "faulty", "commandLog": log, "faults": faults}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

// FaultyLog returns the lines of a faulty plugin's command log, each
// "COMMAND containerID ifname".
func FaultyLog(tb testing.TB, path string) []string {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		out = append(out, s.Text())
	}
	return out
}

// WithoutStatus drops the STATUS calls of the background readiness poll
// from a command log, for tests about the other verbs.
func WithoutStatus(lines []string) []string {
	var out []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "STATUS") {
			out = append(out, l)
		}
	}
	return out
}
