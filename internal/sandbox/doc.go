// Package sandbox builds the throwaway world that the tests and the demo
// run in: the process re-executes itself under `unshare --net --mount`,
// puts private tmpfs mounts where namespaces and CNI state live, and makes
// pod network namespaces inside. Everything it creates dies with the
// re-executed process, so nothing touches the machine's own network
// namespace. Off Linux, Inside reports false and every other call fails
// with ErrUnsupported.
package sandbox
