package netselect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/netplumb/ocicni/ocicni"
)

// The pod annotations multus defined, which this package reads and
// writes.
const (
	// NetworksAnnotation is the network-selection annotation: the pod's
	// request for networks beyond the default one.
	NetworksAnnotation = "k8s.v1.cni.cncf.io/networks"
	// NetworkStatusAnnotation is the network-status annotation: what the
	// pod got, one object per attachment.
	NetworkStatusAnnotation = "k8s.v1.cni.cncf.io/network-status"
)

var (
	// dnsLabel is a Kubernetes namespace (RFC 1123 label).
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	// cniName is what libcni accepts as a network name.
	cniName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.\-]*$`)
)

// Parse reads a network-selection annotation in either of its forms — the
// comma list "[namespace/]name[@interface], ..." or the JSON list of
// objects — and resolves it against the loaded networks in c. An empty
// annotation selects the default network alone.
//
// Every entry is checked before Parse returns, so nothing reaches a
// plugin unless the whole annotation is acceptable. A refused entry is an
// *EntryError; an annotation that is neither form, or a pod namespace
// that is not a Kubernetes namespace, matches ocicni.ErrInvalidPodNetwork;
// a catalog without a default network matches ocicni.ErrNotReady and
// ocicni.ErrNoDefaultNetwork. Unknown JSON fields are refused rather than
// ignored, since a field this package does not read would not be honoured.
func Parse(annotation string, c Catalog, opts ...Option) (Selection, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if c.Default == "" {
		return Selection{}, fmt.Errorf("%w: %w: a selection starts with the default network", ocicni.ErrNotReady, ocicni.ErrNoDefaultNetwork)
	}
	if o.namespace != "" && (len(o.namespace) > 63 || !dnsLabel.MatchString(o.namespace)) {
		return Selection{}, fmt.Errorf("%w: pod namespace %q is not a Kubernetes namespace name", ocicni.ErrInvalidPodNetwork, o.namespace)
	}
	elems, err := splitAnnotation(annotation)
	if err != nil {
		return Selection{}, err
	}
	return build(elems, c, o)
}

// splitAnnotation decodes either form into raw elements.
func splitAnnotation(annotation string) ([]element, error) {
	text := strings.TrimSpace(annotation)
	switch {
	case text == "":
		return nil, nil
	case strings.HasPrefix(text, "["):
		return decodeJSON(text)
	case strings.ContainsAny(text, `{}[]"`):
		return nil, fmt.Errorf("%w: %s annotation is neither a comma list of names nor a JSON list of objects", ocicni.ErrInvalidPodNetwork, NetworksAnnotation)
	}
	var elems []element
	for i, item := range strings.Split(text, ",") {
		e, err := parseItem(i, strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
	}
	return elems, nil
}

// parseItem reads one "[namespace/]name[@interface]" item of the comma
// form.
func parseItem(index int, item string) (element, error) {
	var e element
	rest := item
	if ns, name, ok := strings.Cut(rest, "/"); ok {
		e.Namespace, rest = strings.TrimSpace(ns), name
		if strings.Contains(rest, "/") {
			return e, invalid(index, item, "name", "more than one '/'")
		}
	}
	name, ifname, ok := strings.Cut(rest, "@")
	e.Name = strings.TrimSpace(name)
	if ok {
		e.Interface = strings.TrimSpace(ifname)
		if e.Interface == "" || strings.Contains(e.Interface, "@") {
			return e, invalid(index, item, "interface", "want exactly one interface name after '@'")
		}
	}
	if e.Namespace == "" && strings.Contains(item, "/") {
		return e, invalid(index, item, "namespace", "empty namespace before '/'")
	}
	return e, nil
}

// decodeJSON reads the JSON form, one entry at a time so that an error
// names the entry and its field.
func decodeJSON(text string) ([]element, error) {
	var raws []json.RawMessage
	if err := json.Unmarshal([]byte(text), &raws); err != nil {
		return nil, fmt.Errorf("%w: %s annotation is not a JSON list: %v", ocicni.ErrInvalidPodNetwork, NetworksAnnotation, err)
	}
	elems := make([]element, len(raws))
	for i, raw := range raws {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, invalid(i, "", "", "null is not an object")
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&elems[i]); err != nil {
			return nil, jsonEntryError(i, raw, err)
		}
	}
	return elems, nil
}

// jsonEntryError turns a decoding error into an EntryError naming the
// field at fault where encoding/json says which.
func jsonEntryError(index int, raw json.RawMessage, err error) error {
	var probe struct {
		Name      any `json:"name"`
		Namespace any `json:"namespace"`
	}
	_ = json.Unmarshal(raw, &probe)
	name, _ := probe.Name.(string)
	if ns, _ := probe.Namespace.(string); ns != "" {
		name = ns + "/" + name
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return invalid(index, name, "", "a JSON %s, not an object", te.Value)
		}
		field, _, _ := strings.Cut(te.Field, ".")
		return invalid(index, name, field, "%s is a JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type))
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		field := strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
		return invalid(index, name, field, "not a field of the selection annotation")
	}
	return invalid(index, name, "", "%v", err)
}

// jsonKind names the JSON shape a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice:
		return "a list"
	case reflect.Struct, reflect.Map, reflect.Pointer:
		return "an object"
	default:
		return "a number"
	}
}
