// Package chaos holds the seeded random tester of the library, Linux
// only: it drives every public operation at once, at random, against real
// plugins and a faulty one, kills and restarts runtimes, deletes and
// reuses network namespaces and damages the cache, and after each step
// checks invariants on the kernel, host-local's store and the firewall,
// never on the library's own view. docs/testing.md says how to run it,
// how to replay a seed and what the invariants are. The test binary
// re-executes itself in a throwaway network and mount namespace (see
// internal/testutil); without root the test skips with one line.
package chaos
