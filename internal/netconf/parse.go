package netconf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/utils"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/netplumb/ocicni/internal/fsread"
)

// maxConfSize caps a configuration file. A larger file is refused without
// being read whole, so a stray log file in the conf dir cannot eat memory.
const maxConfSize = 1 << 20

// confExtensions are the file name endings the conf dir is read for.
var confExtensions = []string{".conf", ".conflist", ".json"}

// readConf reads a configuration file, refusing directories, special files
// and files over maxConfSize, without blocking on a FIFO (which would stall
// every reload).
func readConf(path string) ([]byte, error) {
	return fsread.Regular(path, maxConfSize, false)
}

// parseConf parses and checks one file's bytes. A single-plugin file (one
// with a "type" and no "plugins") is up-converted to a list, whatever its
// extension.
func parseConf(path string, data []byte) (*libcni.NetworkConfigList, error) {
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errors.New("is empty")
	}
	if !utf8.Valid(data) {
		return nil, errors.New("is not valid UTF-8")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("is not a JSON object: %w", withPosition(data, err))
	}
	if err := checkFields(raw); err != nil {
		return nil, err
	}
	_, hasPlugins := raw["plugins"]
	_, hasType := raw["type"]
	var list *libcni.NetworkConfigList
	var err error
	switch {
	case hasPlugins || filepath.Ext(path) == ".conflist":
		list, err = libcni.ConfListFromBytes(data)
	case hasType:
		var conf *libcni.PluginConfig
		if conf, err = libcni.ConfFromBytes(data); err == nil {
			list, err = libcni.ConfListFromConf(conf)
		}
	default:
		return nil, errors.New(`has neither "plugins" nor "type"`)
	}
	if err != nil {
		return nil, redacted(err)
	}
	if list.Name == "" {
		return nil, errors.New(`has no "name"`)
	}
	if err := utils.ValidateNetworkName(list.Name); err != nil {
		return nil, fmt.Errorf(`has an invalid name (the "name" field): %s`, err.Msg)
	}
	if len(list.Plugins) == 0 {
		return nil, errors.New(`has no plugins (the "plugins" list is missing or empty)`)
	}
	if err := checkVersion(list.CNIVersion); err != nil {
		return nil, err
	}
	for i, p := range list.Plugins {
		t := p.Network.Type
		if t == "" {
			return nil, fmt.Errorf("plugin %d has no \"type\"", i)
		}
		if strings.ContainsAny(t, `/\`) || t == "." || t == ".." {
			return nil, fmt.Errorf(`plugin %d's "type" is a path; a type is a file name in the plugin directories`, i)
		}
	}
	return list, nil
}

func checkVersion(v string) error {
	if v == "" {
		return errors.New(`has no "cniVersion"`)
	}
	if _, _, _, err := version.ParseVersion(v); err != nil {
		return errors.New(`has an unparsable "cniVersion"`)
	}
	if !slices.Contains(version.All.SupportedVersions(), v) {
		return fmt.Errorf("has cniVersion %q, which this library does not support (it supports %s)",
			v, strings.Join(version.All.SupportedVersions(), ", "))
	}
	return nil
}

// withPosition prefixes a JSON syntax error with the line and column of
// the offending character, since encoding/json gives only a byte offset
// and an operator fixes a file in an editor. Other errors pass unchanged.
func withPosition(data []byte, err error) error {
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	// Offset counts the bytes read, the offending one included.
	at := min(max(int(se.Offset)-1, 0), len(data))
	lineStart := bytes.LastIndexByte(data[:at], '\n') + 1
	line := bytes.Count(data[:at], []byte{'\n'}) + 1
	col := utf8.RuneCount(data[lineStart:at]) + 1
	return fmt.Errorf("line %d, column %d: %s", line, col, syntaxMessage(se))
}
