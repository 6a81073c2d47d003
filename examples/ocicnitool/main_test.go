package main

import (
	"reflect"
	"strings"
	"testing"
)

func TestUsageErrorsExit2(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no verb", nil, "Usage:"},
		{"unknown verb", []string{"frob"}, `unknown verb "frob"`},
		{"unknown flag", []string{"list", "--frob"}, "flag provided but not defined: -frob"},
		{"too few arguments", []string{"add", "mynet"}, "want arguments NETWORK NETNS-PATH, got 1"},
		{"too many arguments", []string{"del", "a", "b", "c"}, "got 3"},
		{"arguments to list", []string{"list", "x"}, "got 1"},
		{"bad timeout", []string{"ready", "--timeout", "soon"}, "invalid value"},
		{"bad CNI_ARGS", []string{"add", "--args", "FOO=1", "n", "/run/netns/x"}, `key "FOO" cannot be passed`},
		{"gc without --all", []string{"gc"}, "pass --all"},
		{"gc --all with IDs", []string{"gc", "--all", "id1"}, "exclude each other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runInProcess(t, env{}, tc.args...)
			if code != exitUsage {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr does not say %q:\n%s", tc.want, stderr)
			}
		})
	}
}

func TestUsageErrorAsJSON(t *testing.T) {
	code, stdout, _ := runInProcess(t, env{}, "add", "--json", "--cap-args", `{"nope":1}`, "n", "/run/netns/x")
	if code != exitUsage {
		t.Fatalf("exit code %d", code)
	}
	var rep errorReport
	decodeJSON(t, stdout, &rep)
	if rep.ExitCode != exitUsage || !strings.Contains(rep.Error, `unknown field "nope"`) || rep.Code != nil {
		t.Fatalf("error report = %+v", rep)
	}
}

func TestHelpExits0(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"gc", "--help"}, {"add", "-h"}} {
		code, stdout, _ := runInProcess(t, env{}, args...)
		if code != exitOK || !strings.Contains(stdout, "Usage") || !strings.Contains(stdout, "not ready") {
			t.Fatalf("%q: exit %d, stdout:\n%s", args, code, stdout)
		}
	}
	_, stdout, _ := runInProcess(t, env{}, "gc", "--help")
	if !strings.Contains(stdout, "EVERYTHING cached is collected") || !strings.Contains(stdout, "--all") {
		t.Fatalf("gc --help does not warn about collecting everything:\n%s", stdout)
	}
}

func TestFlagsAnywhereAfterVerb(t *testing.T) {
	inv := parseOK(t, env{}, "add", "--json", "mynet", "--timeout=5s", "/run/netns/p", "--ifname", "net3")
	if !inv.json || inv.timeout.String() != "5s" || inv.ifname != "net3" || !reflect.DeepEqual(inv.args, []string{"mynet", "/run/netns/p"}) {
		t.Fatalf("parsed %+v", inv)
	}
	inv = parseOK(t, env{}, "add", "--", "-odd-name", "/run/netns/p")
	if !reflect.DeepEqual(inv.args, []string{"-odd-name", "/run/netns/p"}) {
		t.Fatalf("after --, args = %q", inv.args)
	}
}

func TestGCKeepsNetNSPathsAsCnitoolIDs(t *testing.T) {
	ids, err := keptIDs([]string{"sandbox-1", "/run/netns/pod1", "/run/netns/../netns/pod1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"sandbox-1", "cnitool-eb69d96616c204ff963c", "cnitool-eb69d96616c204ff963c"}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("ids = %q, want %q", ids, want)
	}
}
