// Package ocicnitest is a test kit for container runtimes that embed
// package ocicni. Its Plugin is an in-memory ocicni.CNIPlugin: it runs no
// plugin binary, touches no network namespace and needs no root, yet it
// keeps the contract of the real *ocicni.Plugin, which a shared contract
// test suite checks against both:
//
//   - a PodNetwork the real plugin refuses is refused with
//     ocicni.ErrInvalidPodNetwork before anything runs, and an unknown
//     network with ocicni.ErrNetworkNotFound;
//   - interface names are planned as the real plugin plans them: requested
//     names first, then the lowest free ethN;
//   - setting up an attachment the sandbox already has (or still owes a DEL
//     for) fails with ocicni.ErrAlreadyAttached and leaves it untouched;
//   - a failed setup DELs what the call touched, in reverse, on a context
//     detached from the caller's; a DEL that fails there leaves the
//     attachment owed, so status reports it and the next teardown retries;
//   - teardown runs in reverse attach order, keeps going past a failing
//     DEL, returns the errors joined and keeps what it could not remove,
//     owing its DEL (status reports it, with no CHECK); tearing down twice
//     succeeds;
//   - GetPodNetworkStatus reports attachments in attach order after a CHECK
//     of each; with no network named and nothing attached it fails with
//     ocicni.ErrNotAttached (for the default network on eth0), never an
//     empty list with a nil error;
//   - GC removes every attachment whose sandbox is not among its valid pods
//     and keeps the others, refusing the valid pods the real plugin refuses;
//     a stale sandbox's DELs hold only that sandbox, and only the GC verb
//     keeps setups and teardowns out;
//   - a context that ends makes the call fail with an error matching
//     ctx.Err() (and ocicni.ErrPluginTimeout for a deadline passed while a
//     plugin ran);
//   - after Shutdown, which may be called more than once, every operation
//     fails with ocicni.ErrShutdown.
//
// Because it refuses what the real plugin refuses, a pod's NetNS must be
// a network namespace file; /proc/self/ns/net serves any test. It is the
// one refusal the fake skips: the real plugin refuses the runtime's own
// namespace (ocicni.ErrRuntimeNetNS), but the fake enters no namespace,
// and no other namespace file can be named without privileges.
//
// Each network hands out addresses from its own /24 (see New), so results
// are the same on every run. Failures, hangs and readiness are scripted
// with Fault and SetNetworks, and every call is recorded for inspection
// with Calls.
package ocicnitest
