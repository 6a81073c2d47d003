package pluginexec

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/containernetworking/cni/pkg/types/create"
	"github.com/containernetworking/cni/pkg/version"
)

// checkOutput refuses the stdout of a successful ADD or VERSION that is not
// a CNI document of the right shape, so the plugin is blamed by name rather
// than a bare JSON decode error surfacing from inside libcni. The error
// reads well after "plugin X (CMD)".
func checkOutput(cmd string, netconf, out []byte) error {
	if cmd != "ADD" && cmd != "VERSION" {
		return nil
	}
	trimmed := bytes.TrimSpace(out)
	if len(trimmed) == 0 {
		return fmt.Errorf("succeeded but printed no result: %w", errInvalidPluginOutput)
	}
	if !json.Valid(trimmed) || trimmed[0] != '{' {
		return fmt.Errorf("succeeded but printed %s, which is not a CNI result: %w", quoteShort(trimmed), errInvalidPluginOutput)
	}
	if cmd == "ADD" {
		if err := checkResult(netconf, out); err != nil {
			return fmt.Errorf("succeeded but printed %s, which is not a valid CNI result (%v): %w", quoteShort(trimmed), err, errInvalidPluginOutput)
		}
	}
	return nil
}

// checkResult decodes an ADD result the way libcni will.
func checkResult(netconf, out []byte) error {
	var v struct {
		CNIVersion string `json:"cniVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		return err
	}
	if v.CNIVersion == "" {
		var d version.ConfigDecoder
		confVersion, err := d.Decode(netconf)
		if err != nil {
			return err
		}
		v.CNIVersion = confVersion
	}
	_, err := create.Create(v.CNIVersion, out)
	return err
}
