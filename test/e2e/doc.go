// Package e2e holds the end-to-end tests of the library, Linux only: real
// reference plugins (bridge, host-local, portmap, tuning, bandwidth,
// macvlan, static) acting on real network namespaces. The test binary
// re-executes itself in a throwaway network and mount namespace (see
// internal/testutil), so every bridge, veth, firewall rule and IPAM file
// lives and dies with it. Without root the tests skip with one line saying
// why.
package e2e
