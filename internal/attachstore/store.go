package attachstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containernetworking/cni/libcni"

	"github.com/netplumb/ocicni/internal/fsread"
)

// OrderKey is the capability argument that records an attachment's attach
// order. No plugin declares it, so libcni never sends it to one; libcni
// does store it with its entry, which is how teardown and GC recover the
// order. Its value is a key from Store.NextOrder.
const OrderKey = "io.github.netplumb.ocicni/attach-index"

// NetNSKey is the capability argument that records, at ADD, the identity
// of the network namespace the attachment went into, so a teardown can
// tell that namespace from a later one at the same path. No plugin
// declares it, so libcni never sends it to one.
const NetNSKey = "io.github.netplumb.ocicni/netns-id"

// owedKey is the capability argument that marks an owed entry.
const owedKey = "io.github.netplumb.ocicni/pending-del"

// Store is the results directory of one CNI cache directory. It is safe
// for concurrent use; the caller keeps the operations of one sandbox
// apart.
type Store struct {
	dir         string
	args        string // see argsDir
	tempPattern string // names this process's temporary files; see tempPrefix
	index       *index
	owners      *owners
	order       orderClock
	claims      claims
}

// New returns the store of cacheDir, libcni's cache directory. It touches
// nothing on disk until it is used.
func New(cacheDir string) *Store {
	return &Store{dir: filepath.Join(cacheDir, "results"), args: filepath.Join(cacheDir, argsDir), tempPattern: tempPattern(), index: newIndex(), owners: newOwners()}
}

// Close releases what the store holds open (the index's watch of the
// directory). A store used after Close lists the directory on every
// lookup.
func (s *Store) Close() { s.index.close() }

// Dir returns the results directory.
func (s *Store) Dir() string { return s.dir }

// Path returns where libcni keeps the entry of one attachment.
func (s *Store) Path(network, id, ifname string) string {
	return filepath.Join(s.dir, FileName(network, id, ifname))
}

// FileName returns libcni's name for the entry of one attachment.
func FileName(network, id, ifname string) string {
	return network + "-" + id + "-" + ifname
}

// Exists reports whether anything, even a dangling symlink, is at the
// entry's path: a setup must not attach over it.
func (s *Store) Exists(network, id, ifname string) bool {
	_, err := os.Lstat(s.Path(network, id, ifname))
	return err == nil
}

// Other returns the entry at the path of one attachment when its content
// records another attachment (network names and sandbox IDs may contain
// '-', so two attachments can share a file name: sandbox a-b on network c
// and sandbox b on network c-a both have c-a-b-eth0), and nil when the
// path holds nothing, this attachment's entry, or a damaged one whose
// content cannot say. Such an entry is never this attachment's to DEL
// with, remove or report: libcni would hand its result to the DEL and then
// remove it.
func (s *Store) Other(network, id, ifname string) *Entry {
	e := parseFile(s.Path(network, id, ifname))
	if e == nil || e.Err != nil || (e.Network == network && e.ID == id && e.Ifname == ifname) {
		return nil
	}
	return e
}

// Reread reads the entry named name again; nil when it is gone or is no
// entry at all (see parseFile).
func (s *Store) Reread(name string) *Entry {
	e := parseFile(filepath.Join(s.dir, name))
	s.noteEntry(e)
	return e
}

// Owe durably writes, before an ADD starts, everything the attachment's
// DEL needs (network name, configuration bytes, ifname, CNI_ARGS,
// capability arguments with the order among them, netns path) as an owed
// entry, replacing whatever is at its path.
//
// A copy of it (see copyPrefix) stays until DropCopy: libcni overwrites the
// entry with its result in place, not atomically, and a runtime killed
// then would leave an empty file where the record of an ADD that ran was.
func (s *Store) Owe(network string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	data, err := s.writeOwed(network, list, rt)
	if err != nil {
		return err
	}
	// Not synced: it guards against a process killed, not a power cut,
	// and ADD starts only once both files are written.
	if err := s.replace(copyPath(s.Path(network, rt.ContainerID, rt.IfName)), data, false); err != nil {
		return fmt.Errorf("recording attachment %s: %w", FileName(network, rt.ContainerID, rt.IfName), err)
	}
	return nil
}

// DropCopy takes the copy Owe kept of an owed entry out of the results
// directory once the ADD it was written for has returned (libcni has
// rewritten the entry by then, or left it as Owe wrote it), and keeps it
// in the arguments directory (see argsDir) until Remove: should the entry
// be damaged later, its DEL still gets the capability arguments recorded
// at ADD (portMappings above all; a GC has no caller to ask for them).
func (s *Store) DropCopy(network, id, ifname string) {
	cp := copyPath(s.Path(network, id, ifname))
	if fi, err := os.Lstat(s.args); errors.Is(err, os.ErrNotExist) {
		_ = os.Mkdir(s.args, 0o700)
	} else if err != nil || !fi.IsDir() {
		_ = os.Remove(cp)
		return
	}
	if err := os.Rename(cp, filepath.Join(s.args, FileName(network, id, ifname))); err != nil {
		_ = os.Remove(cp)
	}
}

// argsDir names the directory, beside libcni's results directory, where
// DropCopy keeps the arguments of every attachment; hidden from libcni
// and from listings of the results directory.
const argsDir = "ocicni-args"

// argsPath returns where DropCopy keeps the arguments of the entry at path.
func argsPath(path string) string {
	return filepath.Join(filepath.Dir(filepath.Dir(path)), argsDir, filepath.Base(path))
}

// copyPrefix starts the name of the copy Owe keeps of an owed entry, in
// the results directory next to it: hidden, so libcni and listings pass it
// by, and not tempPrefix, so Sweep keeps it while its entry exists.
const copyPrefix = ".ocicni.owed."

// copyPath returns where Owe keeps the copy of the entry at path.
func copyPath(path string) string {
	return filepath.Join(filepath.Dir(path), copyPrefix+filepath.Base(path))
}

// KeepOwed makes sure a later teardown or GC retries a DEL that failed,
// and that nothing reports the attachment as attached meanwhile (the CNI
// spec forbids a CHECK after a DEL): libcni's entry, kept with its result
// for the retry's prevResult, is marked owed; where libcni dropped the
// entry (it does when it cannot read the cached result) an owed entry is
// written. A damaged entry is left as it is.
func (s *Store) KeepOwed(network string, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	path := s.Path(network, rt.ContainerID, rt.IfName)
	data, err := fsread.Regular(path, maxEntrySize, true)
	switch {
	case errors.Is(err, os.ErrNotExist):
		_, err := s.writeOwed(network, list, rt)
		return err
	case err != nil:
		return nil
	}
	marked, ok := markOwed(data)
	if !ok {
		return nil
	}
	if err := s.writeDurably(path, marked); err != nil {
		return fmt.Errorf("recording the failed DEL of %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Remove deletes the entry of one attachment whose DEL succeeded (libcni
// usually has already) and forgets its name, so the index does not grow
// with every pod ever set up. An entry already gone is not an error.
func (s *Store) Remove(network, id, ifname string) error {
	name := FileName(network, id, ifname)
	if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	_ = os.Remove(filepath.Join(s.dir, copyPrefix+name))
	_ = os.Remove(filepath.Join(s.args, name))
	s.index.dropIfGone(s.dir, name)
	s.owners.forget(name)
	return nil
}

// Indexed returns the number of entry names the index holds in memory.
func (s *Store) Indexed() int { return s.index.size() }

// NextOrder reserves n consecutive order keys for sandbox id and returns
// the first. The caller takes them under the sandbox's lock, so two setups
// of one sandbox are ordered as they really ran. Keys follow the time, and
// always come after every key already recorded for the sandbox, so a clock
// stepped back across a restart cannot put a later network before an
// earlier one.
func (s *Store) NextOrder(id string, n int) int64 {
	return s.order.next(n, s.lastOrder(id))
}

// lastOrder returns the greatest order key the index's entries of sandbox
// id hold, or -1.
func (s *Store) lastOrder(id string) int64 {
	last := int64(-1)
	names, err := s.index.lookup(s.dir, id)
	if err != nil {
		return last
	}
	for _, name := range names {
		if !mayBelong(name, id) {
			continue
		}
		if e := parseFile(filepath.Join(s.dir, name)); e != nil && e.Err == nil && e.ID == id {
			last = max(last, e.Order)
		}
	}
	return last
}
