package netselect

import (
	"github.com/netplumb/ocicni/ocicni"
)

// Catalog lists the networks a selection may name. It is a plain value so
// that a selection can be parsed against any ocicni.CNIPlugin, a fake
// included; CatalogOf builds it from a Plugin's view.
type Catalog struct {
	// Default is the default network's name; it always counts as
	// loaded. Parse refuses to build a selection without one.
	Default string
	// Names lists the other loaded networks, in any order.
	Names []string
}

// CatalogOf returns the catalog of a point-in-time view of a Plugin's
// loaded configuration, as (*ocicni.Plugin).Networks returns it.
func CatalogOf(set ocicni.NetworkSet) Catalog {
	c := Catalog{Default: set.Default}
	for _, n := range set.Networks {
		c.Names = append(c.Names, n.Name)
	}
	return c
}

// has reports whether name is a loaded network.
func (c Catalog) has(name string) bool {
	if name == c.Default {
		return true
	}
	for _, n := range c.Names {
		if n == name {
			return true
		}
	}
	return false
}

// resolve maps a namespaced reference onto a loaded network: "ns.name"
// first, then "name" (see the package documentation).
func (c Catalog) resolve(namespace, name string) (string, bool) {
	if namespace != "" && c.has(namespace+"."+name) {
		return namespace + "." + name, true
	}
	return name, c.has(name)
}

// Option changes how Parse reads an annotation.
type Option func(*options)

type options struct {
	namespace string
}

// WithNamespace gives the pod's namespace, which entries without a
// namespace of their own take, as multus does. It decides name resolution
// (see the package documentation) and the names in the status annotation.
func WithNamespace(ns string) Option {
	return func(o *options) { o.namespace = ns }
}
