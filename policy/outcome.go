package policy

import "slices"

// Status is the trust status of an access device, in the auth log's
// vocabulary.
type Status string

// Trust statuses.
const (
	// Trusted: the device proved it meets every enforced requirement.
	Trusted Status = "trusted"
	// NotTrusted: the device was checked and failed, or cannot be checked
	// (a desktop browser, a disabled platform, a user outside the rollout).
	NotTrusted Status = "not trusted"
	// Unknown: no check has established the device's trust.
	Unknown Status = "unknown"
)

// Outcome is what a login does with a device's trust status under a mode.
type Outcome struct {
	// Allow is whether the login may proceed.
	Allow bool `json:"allow"`
	// Record is whether the trust status belongs in the auth log; false only
	// in mode off, where no trust is established.
	Record bool `json:"record"`
	// WouldBlock is, in mode check, whether mode block would have refused.
	WouldBlock bool `json:"would_block,omitempty"`
	// Reason is the auth-log reason when the login is refused or would be:
	// ReasonNotTrusted, or ReasonInvalidPolicy for an unknown mode.
	Reason Reason `json:"reason,omitempty"`
	// Failed are the failed requirements' reasons behind a refusal (or a
	// would-be refusal), as given to Decide.
	Failed []Reason `json:"failed,omitempty"`
}

// Decide turns a trust status under a mode into an outcome: off allows
// without recording trust; check allows, records, and marks WouldBlock with
// the reasons when the device is not trusted; block allows only a trusted
// device and denies anything else with the reasons. Any other mode denies,
// so that a broken configuration fails closed. failed are the reasons of
// the failed requirements (Verdict.Reasons), possibly none, as for a device
// that was never checked.
func Decide(mode Mode, status Status, failed []Reason) Outcome {
	trusted := status == Trusted
	switch mode {
	case ModeOff:
		return Outcome{Allow: true}
	case ModeCheck:
		if trusted {
			return Outcome{Allow: true, Record: true}
		}
		return Outcome{Allow: true, Record: true, WouldBlock: true, Reason: ReasonNotTrusted, Failed: slices.Clone(failed)}
	case ModeBlock:
		if trusted {
			return Outcome{Allow: true, Record: true}
		}
		return Outcome{Record: true, Reason: ReasonNotTrusted, Failed: slices.Clone(failed)}
	}
	return Outcome{Record: true, Reason: ReasonInvalidPolicy, Failed: slices.Clone(failed)}
}
