// Package attachstore keeps the pods' attachments on disk: the entries of
// libcni's result cache (<cacheDir>/results/<network>-<sandbox>-<ifname>)
// and the entries this library writes there before every ADD, the owed
// entries. It knows nothing of plugins, configuration directories or pod
// locks; the caller serializes the operations of one sandbox.
//
// One word per idea:
//
//   - An entry is one file of the results directory: the configuration,
//     arguments and netns path of one attachment, as libcni writes it.
//   - An owed entry is an entry whose attachment owes a DEL that is not
//     known to have run: written (Owe) before the ADD starts, since a
//     process killed mid-ADD or a failed rollback DEL must not leak the
//     attachment, and again (KeepOwed) when a DEL fails, since libcni drops
//     an unreadable entry before its DEL runs. It is libcni's format with an
//     empty result and the capability argument OwedKey, so libcni,
//     cri-o/ocicni and older versions of this library all DEL it. libcni's
//     own entry replaces it once the ADD succeeds.
//   - The order is a key recorded with every entry under OrderKey: the
//     order in which a sandbox's networks were attached, so teardown runs
//     in reverse.
//   - The netns identity (NetNSKey) is recorded with every entry the
//     caller's setup writes; the store only carries it (Entry.NetNSID).
//   - The index maps sandbox IDs to entry file names in memory, so an
//     operation on one sandbox reads its own entries without listing a
//     directory that may hold tens of thousands of others.
//
// The rules live here and nowhere else:
//
//   - Writes are durable: a temporary file created exclusively (so never
//     through a planted symlink), synced, renamed over the entry, and the
//     directory synced, so a crash leaves the old entry or the whole new one.
//   - A results directory that is a symlink is refused; nothing is written
//     where it points.
//   - The index is a hint: every name it gives is checked on disk. It
//     misses no name, even one another process wrote: the directory is
//     listed under an inotify watch whose events every lookup takes in
//     first, and listed again whenever the watch is lost.
//   - Network names and sandbox IDs may contain '-', so a file name alone
//     never says for certain which sandbox an entry belongs to: its content
//     does. The index files a name under every stretch between two dashes.
//     A damaged entry goes to the sandbox the arguments kept for it at ADD
//     name (DropCopy); without them, whose content cannot say, only
//     when its name reads as that sandbox's beyond doubt (Splits, Hints):
//     libcni removes an unreadable entry before the DEL it is given to, so
//     a wrong guess would take another pod's only record with it.
//   - The on-disk strings (file names, JSON keys, the capability argument
//     names) are those of earlier versions, for compatibility.
package attachstore
