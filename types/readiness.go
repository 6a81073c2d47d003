package types

import (
	"errors"
	"time"
)

// The CNI spec's STATUS error codes for a network that is not ready. libcni
// defines no constants for them.
const (
	// CodeNotAvailable (50) means the plugin cannot service ADD requests.
	CodeNotAvailable uint = 50
	// CodeLimitedConnectivity (51) means the plugin cannot service ADD
	// requests and pods already on the network may have limited
	// connectivity.
	CodeLimitedConnectivity uint = 51
)

var (
	// ErrNetworkUnavailable means a plugin's STATUS answered code 50: new
	// pods cannot be set up, pods already running are not said to suffer.
	// It always comes together with ErrNotReady.
	ErrNetworkUnavailable = errors.New("CNI network unavailable (STATUS code 50)")

	// ErrLimitedConnectivity means a plugin's STATUS answered code 51: new
	// pods cannot be set up and running pods may have limited connectivity.
	// It always comes together with ErrNotReady.
	ErrLimitedConnectivity = errors.New("CNI network unavailable, running pods may have limited connectivity (STATUS code 51)")
)

// Readiness is what the background STATUS poll last learnt of a network.
// It encodes to JSON with the keys shown in its field tags; Err is left out
// (its text is in Error).
type Readiness struct {
	// Ready is what Status reports for the network: true when its last
	// STATUS succeeded, or failed within the grace period after a success.
	Ready bool `json:"ready"`
	// Pending is set until the first STATUS answer for the network.
	Pending bool `json:"pending,omitempty"`
	// InGrace is set while STATUS fails but the network is still reported
	// ready because the failure began less than the grace period ago.
	InGrace bool `json:"inGrace,omitempty"`
	// Checked is when STATUS last answered; zero until it has.
	Checked time.Time `json:"checked,omitzero"`
	// FailingSince is when the current run of failing answers began; zero
	// while STATUS succeeds.
	FailingSince time.Time `json:"failingSince,omitzero"`
	// Code is the CNI error code of the last failing answer (50, 51 or a
	// plugin's own), 0 when it succeeded or failed without a CNI error.
	Code uint `json:"code,omitempty"`
	// Error is the text of the last failing answer, "" when it succeeded.
	Error string `json:"error,omitempty"`
	// Err is the last failing answer as an error that matches ErrNotReady,
	// ErrNetworkUnavailable or ErrLimitedConnectivity as its code says, and
	// the plugin's *types.Error with errors.As; nil when it succeeded.
	Err error `json:"-"`
}
