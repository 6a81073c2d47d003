package netselect

import (
	"fmt"

	"github.com/netplumb/ocicni/ocicni"
)

// EntryError reports one refused entry of a network-selection annotation.
// It unwraps to an error matching ocicni.ErrInvalidPodNetwork, or
// ocicni.ErrNetworkNotFound when the entry names no loaded network.
type EntryError struct {
	// Index is the entry's position in the annotation, counting from 0.
	Index int
	// Name is the entry's network reference as written: "name" or
	// "namespace/name".
	Name string
	// Field is the annotation field at fault, spelled as in the JSON
	// form: "name", "namespace", "interface", "ips", "mac",
	// "infiniband-guid", "deviceID", "portMappings", "bandwidth",
	// "cni-args" or "default-route"; or "" when the entry as a whole is
	// not an object.
	Field string
	// Err says what is wrong.
	Err error
}

// Error names the entry, its field and the reason.
func (e *EntryError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s entry %d (%q): %v", NetworksAnnotation, e.Index, e.Name, e.Err)
	}
	return fmt.Sprintf("%s entry %d (%q), field %q: %v", NetworksAnnotation, e.Index, e.Name, e.Field, e.Err)
}

// Unwrap returns the reason, which matches one of the ocicni sentinels.
func (e *EntryError) Unwrap() error { return e.Err }

// invalid builds the EntryError of a malformed field.
func invalid(index int, name, field, format string, args ...any) *EntryError {
	return &EntryError{Index: index, Name: name, Field: field,
		Err: fmt.Errorf("%w: %s", ocicni.ErrInvalidPodNetwork, fmt.Sprintf(format, args...))}
}
