//go:build !linux

package netselect

import "errors"

// setDefaultRoutes needs Linux network namespaces.
func setDefaultRoutes(string, []route) error {
	return errors.New("netselect: default-route needs Linux network namespaces")
}
