package adminapi

import (
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// WhatIfQuery asks whether a person would get into an application on a
// device. It has the fields of prompt.WhatIfQuery, in the same order, so
// that the gateway converts one into the other and the compiler keeps
// them in step.
type WhatIfQuery struct {
	// User, Email and Groups are the person, as primary login would give
	// them.
	User   string
	Email  string
	Groups []string
	// Access are the application's access rules; nil lets everyone in.
	Access *policy.Access
	// AccessPlatform is the platform of the device the browser runs on;
	// empty means the verifying device's own.
	AccessPlatform string
	// Device is the activated device that would check itself, or nil.
	Device *store.Device
	// Facts, when set, are the health facts to evaluate instead of the
	// device's latest report.
	Facts *policy.Facts
}

// WhatIfDecision is what the login would do, and why. It has the fields
// of prompt.WhatIfAnswer, in the same order (see WhatIfQuery).
type WhatIfDecision struct {
	// Outcome is "allow" or "deny".
	Outcome string `json:"outcome"`
	// Status is the trust status the login would record; empty in mode
	// off.
	Status policy.Status `json:"status,omitempty"`
	// Mode is the application's policy mode.
	Mode policy.Mode `json:"mode"`
	// WouldBlock is set in mode check when block would refuse the login.
	WouldBlock bool `json:"would_block,omitempty"`
	// Reason is the auth-log reason of a refusal (or a would-be refusal).
	Reason policy.Reason `json:"reason,omitempty"`
	// Failed are the unmet enforced requirements, or why the device could
	// not be checked; Warnings the unmet warn requirements.
	Failed   []policy.Finding `json:"failed"`
	Warnings []policy.Finding `json:"warnings"`
	// Reasons are the reason codes of Failed.
	Reasons []string `json:"reasons"`
	// Explanation says in words which branch of the flow decided.
	Explanation string `json:"explanation"`
}
