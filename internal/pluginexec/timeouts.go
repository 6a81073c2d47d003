package pluginexec

import "time"

// Timeouts bounds each exec by its CNI verb (the CNI_COMMAND: ADD, DEL,
// CHECK, STATUS, GC, VERSION) and, for the networks ByNetwork names, by
// network and verb. A bound of zero or less, or none, means no bound; the
// caller's deadline applies either way when it is earlier.
type Timeouts struct {
	ByVerb map[string]time.Duration
	// ByNetwork maps a network name to the verbs whose bound differs for
	// it. VERSION's stdin names no network, so only ByVerb bounds it.
	ByNetwork map[string]map[string]time.Duration
}

// forExec returns the bound of one exec of verb with stdin. The network
// configuration is parsed only when some network has bounds of its own.
func (t Timeouts) forExec(verb string, stdin []byte) time.Duration {
	if len(t.ByNetwork) > 0 {
		if d, ok := t.ByNetwork[networkName(stdin)][verb]; ok {
			return d
		}
	}
	return t.ByVerb[verb]
}
