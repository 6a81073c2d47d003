package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
)

// errNoFirewall says what to install when portmap has no firewall tool to
// drive.
var errNoFirewall = errors.New("the portmap plugin needs iptables or nft: install them (Debian: apt-get install iptables nftables)")

// haveFirewall reports whether iptables or nft is on PATH, where the
// portmap plugin looks for them.
func haveFirewall() bool {
	for _, tool := range []string{"iptables", "nft"} {
		if _, err := exec.LookPath(tool); err == nil {
			return true
		}
	}
	return false
}

// withoutPlugin returns the conflist with every plugin of the given type
// removed from its chain.
func withoutPlugin(conflist []byte, pluginType string) ([]byte, error) {
	var list map[string]any
	if err := json.Unmarshal(conflist, &list); err != nil {
		return nil, err
	}
	plugins, _ := list["plugins"].([]any)
	list["plugins"] = slices.DeleteFunc(plugins, func(p any) bool {
		conf, _ := p.(map[string]any)
		return conf["type"] == pluginType
	})
	return json.MarshalIndent(list, "", "  ")
}
