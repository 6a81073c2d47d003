package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	cnitypes "github.com/containernetworking/cni/pkg/types"

	"github.com/netplumb/ocicni/ocicni"
)

// exitStatus ends a verb with a code after it has printed its own report
// (ready prints why it is not ready, then exits 3). writeError prints
// nothing for it.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitCode maps a verb's error to the process's exit code.
func exitCode(err error) int {
	var st exitStatus
	var ue *usageError
	switch {
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, ocicni.ErrNotReady):
		return exitNotReady
	default:
		return exitFailed
	}
}

// errorReport is the JSON form of an error. Code, Msg and Details are the
// plugin's CNI error, when there is one.
type errorReport struct {
	Error    string `json:"error"`
	ExitCode int    `json:"exit_code"`
	Code     *uint  `json:"code,omitempty"`
	CodeName string `json:"code_name,omitempty"`
	Msg      string `json:"msg,omitempty"`
	Details  string `json:"details,omitempty"`
	// Op, Network and Ifname say which attachment failed, when the
	// library says so.
	Op      string `json:"op,omitempty"`
	Network string `json:"network,omitempty"`
	Ifname  string `json:"ifname,omitempty"`
	Sandbox string `json:"sandbox,omitempty"`
	// Timings is the failed operation's breakdown (--timings).
	Timings []*timingNode `json:"timings,omitempty"`
}

// newErrorReport collects what errors.As finds in err.
func newErrorReport(err error) errorReport {
	r := errorReport{Error: err.Error(), ExitCode: exitCode(err)}
	var ce *cnitypes.Error
	if errors.As(err, &ce) {
		code := ce.Code
		r.Code, r.CodeName, r.Msg, r.Details = &code, cniCodeName(ce.Code), ce.Msg, ce.Details
	}
	var oe *ocicni.OpError
	if errors.As(err, &oe) {
		r.Op, r.Network, r.Ifname, r.Sandbox = oe.Op, oe.Network, oe.Ifname, oe.ID
	}
	var te *timedError
	if errors.As(err, &te) {
		r.Timings = te.timings
	}
	return r
}

// writeError prints a verb's error: a JSON object, or a line for people
// followed by the plugin's code, message and details.
func writeError(w io.Writer, asJSON bool, verb string, err error) {
	var st exitStatus
	if errors.As(err, &st) {
		return
	}
	r := newErrorReport(err)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(r)
		return
	}
	fmt.Fprintf(w, "ocicnitool %s: %s\n", verb, r.Error)
	if r.Code != nil {
		fmt.Fprintf(w, "  CNI error code %d (%s): %s\n", *r.Code, r.CodeName, r.Msg)
		if r.Details != "" {
			fmt.Fprintf(w, "  details: %s\n", r.Details)
		}
	}
}

// Codes the spec gives the STATUS verb, which libcni has no names for.
const (
	codePluginNotAvailable  = 50
	codeLimitedConnectivity = 51
)

// cniCodeName names the error codes the CNI spec reserves; plugins use
// 100 and up for their own.
func cniCodeName(code uint) string {
	switch code {
	case cnitypes.ErrIncompatibleCNIVersion:
		return "incompatible CNI version"
	case cnitypes.ErrUnsupportedField:
		return "unsupported field in network configuration"
	case cnitypes.ErrUnknownContainer:
		return "container unknown or does not exist"
	case cnitypes.ErrInvalidEnvironmentVariables:
		return "invalid necessary environment variables"
	case cnitypes.ErrIOFailure:
		return "I/O failure"
	case cnitypes.ErrDecodingFailure:
		return "failed to decode content"
	case cnitypes.ErrInvalidNetworkConfig:
		return "invalid network config"
	case cnitypes.ErrTryAgainLater:
		return "try again later"
	case cnitypes.ErrInvalidNetNS:
		return "invalid network namespace"
	case codePluginNotAvailable:
		return "plugin not available"
	case codeLimitedConnectivity:
		return "plugin not available, connectivity limited"
	case cnitypes.ErrInternal:
		return "internal error"
	}
	if code >= 100 {
		return "plugin-specific"
	}
	return "unknown"
}
