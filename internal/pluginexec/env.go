package pluginexec

import "strings"

// envFilter limits the environment a plugin receives. libcni hands every
// plugin the runtime's whole environment, which may hold credentials or
// proxy settings no plugin needs; a runtime that names the keys it means
// to pass closes that leak.
type envFilter struct {
	on   bool
	keep map[string]bool
}

func newEnvFilter(keys []string) envFilter {
	if keys == nil {
		return envFilter{}
	}
	f := envFilter{on: true, keep: map[string]bool{"PATH": true}}
	for _, k := range keys {
		f.keep[k] = true
	}
	return f
}

func (f envFilter) apply(environ []string) []string {
	if !f.on {
		return environ
	}
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if f.keep[k] || strings.HasPrefix(k, "CNI_") {
			out = append(out, kv)
		}
	}
	return out
}

func envValue(environ []string, key string) string {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			return v
		}
	}
	return ""
}
