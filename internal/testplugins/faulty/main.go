// Command faulty is a CNI plugin for tests that acts out the faults real
// plugins show: CNI errors, garbage or missing output, death by signal,
// hanging, and output that is valid JSON but not a CNI result. It answers
// VERSION and succeeds by default, so a network using it loads normally.
//
// What it does for each CNI_COMMAND comes from, in order of precedence, a
// control file beside the binary (<path it was exec'd as>.control.json,
// read on every call, so a test can change behaviour between ADD and DEL
// even though DEL runs with the configuration cached at ADD) and the
// "faults" object of its network configuration:
//
//	{"type": "faulty", "faults": {"ADD": "hang", "DEL": "error"},
//	 "childPidFile": "/tmp/child.pid",
//	 "errorCode": 7, "errorMsg": "boom", "signal": "TERM",
//	 "commandLog": "/tmp/log", "ip": "10.99.0.2/24",
//	 "requireFile": "/var/lib/cni/results/net-id-eth0"}
//
// A key "COMMAND:network" applies to that network only and wins over a
// plain "COMMAND". The fault names are listed in the switch of act and,
// for those chaos.go adds, in actChaos. Every invocation other
// than VERSION appends "<COMMAND> <CNI_CONTAINERID> <CNI_IFNAME>" to
// commandLog, before acting, so tests can see that a hanging or crashing
// call did start.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type control struct {
	Faults     map[string]string `json:"faults"`
	ErrorCode  uint              `json:"errorCode"`
	ErrorMsg   string            `json:"errorMsg"`
	Signal     string            `json:"signal"`
	CommandLog string            `json:"commandLog"`
	// ChildPIDFile is where the "spawn-hang" fault's child writes its PID.
	ChildPIDFile string `json:"childPidFile"`
	// RequireFile, when set, fails an ADD with code 95 unless the file
	// exists once the configuration has been read: a test's way to ask
	// whether something was on disk before the plugin could act.
	RequireFile string `json:"requireFile"`
	// RendezvousDir and RendezvousCount drive the "rendezvous" fault: the
	// plugin leaves a file in the directory and succeeds once the directory
	// holds RendezvousCount files, or fails after five seconds, so a test
	// can tell calls that run at once from calls that run in turn.
	RendezvousDir   string `json:"rendezvousDir"`
	RendezvousCount int    `json:"rendezvousCount"`
	// NiceLog, when set, gets a line "<COMMAND> <niceness>" per call, so a
	// test can see at what CPU priority the plugin was run.
	NiceLog string `json:"niceLog"`
	// ProcsLog, when set, gets a line "<COMMAND> <GOMAXPROCS>" per call:
	// the processors the plugin's Go runtime started with.
	ProcsLog string `json:"procsLog"`
	// CrowdDir, CrowdTarget and CrowdLog drive the "crowd" fault; see
	// crowd.go.
	CrowdDir    string `json:"crowdDir"`
	CrowdTarget int    `json:"crowdTarget"`
	CrowdLog    string `json:"crowdLog"`
	// TraceLog, when set, gets a line "<COMMAND> <TRACEPARENT> <TRACESTATE>"
	// per call ("-" for an unset one): the trace context a plugin-side span
	// would join.
	TraceLog string `json:"traceLog"`
	// ChildSession makes the "leave-child" fault's child leave the
	// plugin's process group for a session of its own, as a daemon does.
	ChildSession bool `json:"childSession"`
	// FloodBytes is how much the "flood" and "flood-stderr" faults write
	// (default 256 MiB).
	FloodBytes int64 `json:"floodBytes"`
	// SlowFor is how long the "slow" fault works before it succeeds, as a
	// Go duration.
	SlowFor string `json:"slowFor"`
	// ReleaseFile is what the "hold" fault waits for; see hold.go.
	ReleaseFile string `json:"releaseFile"`
}

type netConf struct {
	control
	Name       string          `json:"name"`
	CNIVersion string          `json:"cniVersion"`
	IP         string          `json:"ip"`
	PrevResult json.RawMessage `json:"prevResult"`
}

// childEnv marks the copy of the plugin that "spawn-hang" starts, as an
// IPAM delegate would be: it writes its PID where told and then works on
// forever.
const childEnv = "FAULTY_CHILD_PIDFILE"

func main() {
	if pidFile := os.Getenv(childEnv); pidFile != "" {
		_ = os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())), 0o644)
		for {
			time.Sleep(time.Hour)
		}
	}
	if d := os.Getenv(chaosChildEnv); d != "" {
		chaosChild(d)
	}
	cmd := os.Getenv("CNI_COMMAND")
	stdin, _ := io.ReadAll(os.Stdin)
	var conf netConf
	_ = json.Unmarshal(stdin, &conf)
	if data, err := os.ReadFile(os.Args[0] + ".control.json"); err == nil {
		var c control
		if err := json.Unmarshal(data, &c); err != nil {
			fail(99, "bad control file: "+err.Error())
		}
		merge(&conf.control, c)
	}
	chaosFault(cmd, &conf)
	if cmd != "VERSION" && conf.CommandLog != "" {
		logCommand(conf.CommandLog, fmt.Sprintf("%s %s %s\n", cmd, os.Getenv("CNI_CONTAINERID"), os.Getenv("CNI_IFNAME")))
	}
	if cmd != "VERSION" && conf.ProcsLog != "" {
		logCommand(conf.ProcsLog, fmt.Sprintf("%s %d\n", cmd, runtime.GOMAXPROCS(0)))
	}
	if cmd != "VERSION" && conf.NiceLog != "" {
		logCommand(conf.NiceLog, fmt.Sprintf("%s %s\n", cmd, niceness()))
	}
	if cmd != "VERSION" && conf.TraceLog != "" {
		logCommand(conf.TraceLog, fmt.Sprintf("%s %s %s\n", cmd, envOrDash("TRACEPARENT"), envOrDash("TRACESTATE")))
	}
	if cmd == "ADD" && conf.RequireFile != "" {
		if _, err := os.Stat(conf.RequireFile); err != nil {
			fail(95, "required file missing when the configuration arrived: "+err.Error())
		}
	}
	act(cmd, conf)
}

func merge(dst *control, src control) {
	if src.Faults != nil {
		dst.Faults = src.Faults
	}
	if src.ErrorCode != 0 {
		dst.ErrorCode = src.ErrorCode
	}
	if src.ErrorMsg != "" {
		dst.ErrorMsg = src.ErrorMsg
	}
	if src.Signal != "" {
		dst.Signal = src.Signal
	}
	if src.CommandLog != "" {
		dst.CommandLog = src.CommandLog
	}
	if src.ChildPIDFile != "" {
		dst.ChildPIDFile = src.ChildPIDFile
	}
	if src.RequireFile != "" {
		dst.RequireFile = src.RequireFile
	}
	if src.NiceLog != "" {
		dst.NiceLog = src.NiceLog
	}
	if src.ProcsLog != "" {
		dst.ProcsLog = src.ProcsLog
	}
	if src.CrowdDir != "" {
		dst.CrowdDir, dst.CrowdTarget, dst.CrowdLog = src.CrowdDir, src.CrowdTarget, src.CrowdLog
	}
	if src.TraceLog != "" {
		dst.TraceLog = src.TraceLog
	}
	dst.ChildSession = dst.ChildSession || src.ChildSession
	if src.FloodBytes != 0 {
		dst.FloodBytes = src.FloodBytes
	}
	if src.SlowFor != "" {
		dst.SlowFor = src.SlowFor
	}
	if src.ReleaseFile != "" {
		dst.ReleaseFile = src.ReleaseFile
	}
}

func act(cmd string, conf netConf) {
	fault, ok := conf.Faults[cmd+":"+conf.Name]
	if !ok {
		fault = conf.Faults[cmd]
	}
	switch fault {
	case "", "ok":
		succeed(cmd, conf)
	case "error":
		code, msg := conf.ErrorCode, conf.ErrorMsg
		if code == 0 {
			code = 999
		}
		if msg == "" {
			msg = "faulty plugin failed on purpose"
		}
		fail(code, msg)
	case "garbage":
		fmt.Print("this is not JSON at all")
	case "garbage-exit1":
		fmt.Print("panic: something broke\n\tgoroutine 1 [running]")
		os.Exit(1)
	case "nothing":
	case "nothing-exit1":
		os.Exit(1)
	case "truncated":
		fmt.Printf(`{"cniVersion":%q,"interfaces":[{"name":"eth`, conf.CNIVersion)
	case "wrong-shape":
		fmt.Printf(`{"cniVersion":%q,"ips":"not a list","interfaces":42}`, conf.CNIVersion)
	case "bad-version":
		fmt.Print(`{"cniVersion":"42.0.0","ips":[]}`)
	case "null":
		fmt.Print(`null`)
	case "signal":
		sig := syscall.SIGKILL
		if conf.Signal == "TERM" {
			sig = syscall.SIGTERM
		}
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(time.Minute)
	case "spawn-hang":
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), childEnv+"="+conf.ChildPIDFile)
		if err := child.Start(); err != nil {
			fail(96, "spawning a child: "+err.Error())
		}
		for {
			time.Sleep(time.Hour)
		}
	case "leave-child":
		leaveChild(conf)
		succeed(cmd, conf)
	case "slow":
		d, err := time.ParseDuration(conf.SlowFor)
		if err != nil {
			fail(98, "slowFor: "+err.Error())
		}
		time.Sleep(d)
		succeed(cmd, conf)
	case "flood":
		flood(os.Stdout, "", conf.FloodBytes, "")
	case "flood-stderr":
		flood(os.Stderr, "FLOOD-START", conf.FloodBytes, "FLOOD-END")
		succeed(cmd, conf)
	case "rendezvous":
		rendezvous(cmd, conf)
	case "crowd":
		crowd(cmd, conf)
	case "hold":
		hold(cmd, conf)
	case "hang":
		for {
			time.Sleep(time.Hour)
		}
	default:
		if !actChaos(cmd, conf, fault) {
			fail(98, "unknown fault "+fault)
		}
	}
}

func succeed(cmd string, conf netConf) {
	switch cmd {
	case "VERSION":
		fmt.Print(`{"cniVersion":"1.1.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]}`)
	case "ADD":
		if len(conf.PrevResult) > 0 && string(conf.PrevResult) != "null" {
			os.Stdout.Write(conf.PrevResult)
			return
		}
		ip := conf.IP
		if ip == "" {
			ip = "10.99.0.2/24"
		}
		fmt.Printf(`{"cniVersion":%q,"interfaces":[{"name":%q,"sandbox":%q}],"ips":[{"address":%q,"interface":0}]}`,
			conf.CNIVersion, os.Getenv("CNI_IFNAME"), os.Getenv("CNI_NETNS"), ip)
	}
}

// leaveChild starts a copy of the plugin that inherits its stdout and
// stderr and runs on forever after the plugin has answered, as a daemon a
// plugin starts would: in the plugin's process group, or in a session of
// its own with ChildSession.
func leaveChild(conf netConf) {
	child := exec.Command(os.Args[0])
	child.Env = append(os.Environ(), childEnv+"="+conf.ChildPIDFile)
	child.Stdout, child.Stderr = os.Stdout, os.Stderr
	if conf.ChildSession {
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	}
	if err := child.Start(); err != nil {
		fail(96, "starting a child: "+err.Error())
	}
	// The PID file is written by the child; wait for it so the test knows
	// which process to look for.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if data, err := os.ReadFile(conf.ChildPIDFile); err == nil && len(data) > 0 {
			return
		}
	}
	fail(96, "the child never wrote its PID")
}

// flood writes head, n bytes of filler (256 MiB by default) and tail to w.
func flood(w io.Writer, head string, n int64, tail string) {
	if n <= 0 {
		n = 256 << 20
	}
	fmt.Fprint(w, head)
	chunk := []byte(strings.Repeat("x", 64<<10))
	for n > 0 {
		m := min(n, int64(len(chunk)))
		if _, err := w.Write(chunk[:m]); err != nil {
			os.Exit(3)
		}
		n -= m
	}
	fmt.Fprint(w, tail)
}

func envOrDash(key string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return "-"
}

// niceness reads this process's niceness from /proc (field 19 of stat,
// the 17th after the command name).
func niceness() string {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(f) < 17 {
		return "unknown"
	}
	return f[16]
}

func rendezvous(cmd string, conf netConf) {
	mark := fmt.Sprintf("%s/%d", conf.RendezvousDir, os.Getpid())
	if err := os.WriteFile(mark, nil, 0o644); err != nil {
		fail(94, "rendezvous: "+err.Error())
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if entries, err := os.ReadDir(conf.RendezvousDir); err == nil && len(entries) >= conf.RendezvousCount {
			succeed(cmd, conf)
			return
		}
	}
	fail(94, "rendezvous: the other calls never came")
}

func fail(code uint, msg string) {
	out, _ := json.Marshal(map[string]any{"cniVersion": "1.0.0", "code": code, "msg": msg, "details": "from the faulty test plugin"})
	os.Stdout.Write(out)
	os.Exit(1)
}

// logCommand appends one line with a single write, which O_APPEND keeps
// whole even when several plugin processes log at once.
func logCommand(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fail(97, "command log: "+err.Error())
	}
	defer f.Close()
	if _, err := f.WriteString(line); err != nil {
		fail(97, "command log: "+err.Error())
	}
}
