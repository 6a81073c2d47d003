package netconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/containernetworking/cni/pkg/version"
)

// A file in the conf dir may be a symlink to anything, a secret included,
// and a skip reason travels far: Networks(), Status() errors and logs. So
// reasons name positions and fields, never the file's values: the checks
// below run before libcni's, whose messages quote values, and what libcni
// still says has its quoted parts redacted.

// checkFields refuses, naming only the field, the values libcni would quote
// back in its error.
func checkFields(raw map[string]json.RawMessage) error {
	if v, ok := raw["cniVersion"]; ok {
		var s string
		if json.Unmarshal(v, &s) != nil {
			return errors.New(`has a "cniVersion" that is not a string`)
		}
		if s != "" {
			if _, _, _, err := version.ParseVersion(s); err != nil {
				return errors.New(`has an unparsable "cniVersion"`)
			}
		}
	}
	if v, ok := raw["cniVersions"]; ok {
		var list []string
		if json.Unmarshal(v, &list) != nil {
			return errors.New(`has a "cniVersions" that is not a list of strings`)
		}
		for i, s := range list {
			if _, _, _, err := version.ParseVersion(s); err != nil {
				return fmt.Errorf(`has an unparsable "cniVersions" entry %d`, i)
			}
		}
	}
	for _, key := range []string{"disableCheck", "disableGC", "loadOnlyInlinedPlugins"} {
		v, ok := raw[key]
		if !ok {
			continue
		}
		var b bool
		var s string
		if json.Unmarshal(v, &b) == nil {
			continue
		}
		if json.Unmarshal(v, &s) == nil {
			if _, err := strconv.ParseBool(s); err == nil {
				continue
			}
		}
		return fmt.Errorf("has a %q that is neither true nor false", key)
	}
	return nil
}

var (
	// quotedValue is a Go-quoted string in an error message.
	quotedValue = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	// syntaxChar is the offending character encoding/json quotes.
	syntaxChar = regexp.MustCompile(`character '(?:[^'\\]|\\.)+' `)
)

// redacted returns err's message with every quoted value taken out. The
// result wraps nothing, so no caller can reach the original text.
func redacted(err error) error {
	return errors.New(quotedValue.ReplaceAllString(err.Error(), "(value redacted)"))
}

// syntaxMessage is a JSON syntax error's message without the character it
// quotes.
func syntaxMessage(se *json.SyntaxError) string {
	return syntaxChar.ReplaceAllString(se.Error(), "character ")
}
