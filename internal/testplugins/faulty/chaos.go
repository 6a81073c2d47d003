package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The chaos tester (test/chaos) picks a fault per sandbox and command, so
// that operations on different pods running at once each get their own:
// it writes the fault's name to <binary>.chaos/<CNI_CONTAINERID>.<COMMAND>,
// optionally followed by "@<network>" to hit that network of the pod
// only. A fault chosen that way wins over the control file and the
// network configuration.
func chaosFault(cmd string, conf *netConf) {
	data, err := os.ReadFile(os.Args[0] + ".chaos/" + os.Getenv("CNI_CONTAINERID") + "." + cmd)
	if err != nil {
		return
	}
	fault, network, _ := strings.Cut(strings.TrimSpace(string(data)), "@")
	if network != "" && network != conf.Name {
		return
	}
	conf.Faults = map[string]string{cmd: fault}
}

// chaosChildEnv marks the copy of the plugin that "leave-child" starts: it
// holds the plugin's stdout and stderr for the given time, as a daemon an
// IPAM plugin starts does, and then exits.
const chaosChildEnv = "FAULTY_CHAOS_CHILD"

// actChaos acts out the faults whose names carry a parameter after a
// colon, and reports whether fault was one of them:
//
//	slow:<duration>       sleep, then succeed
//	leave-child:<duration> succeed at once, leaving a child holding
//	                      stdout and stderr for the duration
//	flood:<bytes>         write that many bytes to stderr and to stdout
//	                      (not a CNI result), then exit 1
func actChaos(cmd string, conf netConf, fault string) bool {
	kind, arg, _ := strings.Cut(fault, ":")
	switch kind {
	case "slow":
		d, _ := time.ParseDuration(arg)
		time.Sleep(d)
		succeed(cmd, conf)
	case "leave-child":
		child := exec.Command(os.Args[0])
		child.Env = append(os.Environ(), chaosChildEnv+"="+arg)
		child.Stdout, child.Stderr = os.Stdout, os.Stderr
		if err := child.Start(); err != nil {
			fail(96, "starting a child: "+err.Error())
		}
		succeed(cmd, conf)
	case "flood":
		n, _ := strconv.Atoi(arg)
		chunk := []byte(strings.Repeat("flood of output from the faulty test plugin ", 1000) + "\n")
		for _, f := range []*os.File{os.Stderr, os.Stdout} {
			for left := n; left > 0; left -= len(chunk) {
				if _, err := f.Write(chunk[:min(left, len(chunk))]); err != nil {
					break
				}
			}
		}
		os.Exit(1)
	default:
		return false
	}
	return true
}

// chaosChild is the body of the "leave-child" child.
func chaosChild(arg string) {
	d, _ := time.ParseDuration(arg)
	time.Sleep(d)
	fmt.Fprintln(os.Stderr, "the faulty plugin's child is done")
	os.Exit(0)
}
