package ocicni

import (
	"context"
	"sync"
)

// netnsLocks orders setups against DELs whose namespace no record vouches
// for. Such a DEL goes to the caller's path once no other sandbox's record
// claims the namespace there, but a setup of another sandbox in that
// namespace has no record until its first entry is written: a DEL checked
// in that window would take the new pod's interface. Sandboxes lock apart
// (pods), so the namespace's identity is what they meet on.
//
// Locking rule: mu guards setups and is never held while waiting. A setup
// takes its namespace's lock from locks only to register in setups, where
// it stays until the setup ends. An unchecked DEL takes the same lock from
// its ownership check until its plugins have exited, so a setup that
// registers after the check waits for the DEL, and one registered before
// makes the check refuse. Every wait honours the caller's context; no
// other lock is taken while one of these is held.
type netnsLocks struct {
	locks *podLocks
	mu    sync.Mutex
	// setups counts the setups in flight per namespace identity and
	// sandbox.
	setups map[string]map[string]int
}

func newNetNSLocks() *netnsLocks {
	return &netnsLocks{locks: newPodLocks(), setups: map[string]map[string]int{}}
}

// settingUp registers sandbox id as setting up in the namespace nsid and
// returns the function that ends the registration. An identity of ""
// (unknown) registers nothing.
func (n *netnsLocks) settingUp(ctx context.Context, nsid, id string) (func(), error) {
	if nsid == "" {
		return func() {}, nil
	}
	unlock, err := n.locks.lock(ctx, nsid)
	if err != nil {
		return nil, err
	}
	defer unlock()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.setups[nsid] == nil {
		n.setups[nsid] = map[string]int{}
	}
	n.setups[nsid][id]++
	return func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.setups[nsid][id]--; n.setups[nsid][id] == 0 {
			delete(n.setups[nsid], id)
		}
		if len(n.setups[nsid]) == 0 {
			delete(n.setups, nsid)
		}
	}, nil
}

// lockForDel takes the lock of the namespace nsid for an unchecked DEL of
// sandbox id and reports whether a setup of another sandbox is registered
// there; the DEL must then send no netns. The lock is held until unlock.
func (n *netnsLocks) lockForDel(ctx context.Context, nsid, id string) (unlock func(), other bool, err error) {
	unlock, err = n.locks.lock(ctx, nsid)
	if err != nil {
		return nil, false, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for s := range n.setups[nsid] {
		if s != id {
			return unlock, true, nil
		}
	}
	return unlock, false, nil
}
