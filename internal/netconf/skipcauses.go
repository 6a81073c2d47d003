package netconf

import (
	"slices"
	"strings"
)

// SkipCauses returns why each network that some file parsed to was
// skipped, one error per network name, ordered by message, which starts
// with the file's path. Readiness wraps them so that a caller told a
// plugin binary is missing can match that with errors.Is.
func (s *Set) SkipCauses() []error {
	causes := make([]error, 0, len(s.skippedNets))
	for _, err := range s.skippedNets {
		causes = append(causes, err)
	}
	slices.SortFunc(causes, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return causes
}
