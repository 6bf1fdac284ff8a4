package whatif

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
)

// Query asks whether a person would get into an application on a
// device: the what-if question of the admin API. Decide answers it from
// values only, so that the caller can take them from the live inventory.
type Query struct {
	// User, Email and Groups are the person, as primary login would give
	// them; the access rules look at all three, the device check at the
	// groups.
	User   string
	Email  string
	Groups []string
	// Access are the application's access rules; nil lets everyone in.
	Access *policy.Access
	// AccessPlatform is the platform of the device the browser runs on:
	// "ios" or "android", or anything else (a desktop, an unknown
	// browser), which the mobile app cannot check. Empty means the
	// verifying device's own platform: the person opens the application
	// on that phone.
	AccessPlatform string
	// Device is the activated device that would check itself, or nil when
	// the person has none. A revoked device counts as none.
	Device *store.Device
	// Facts, when set, are the health facts to evaluate, instead of the
	// device's latest report. With Facts and no Device, the person is
	// taken to have an activated device that reports them.
	Facts *policy.Facts
}

// WhatIf outcomes.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Answer is Decide's answer: what the login would do, and why.
type Answer struct {
	// Outcome is "allow" or "deny".
	Outcome string `json:"outcome"`
	// Status is the trust status the login would record (trusted, not
	// trusted, unknown); empty in mode off, which records none.
	Status policy.Status `json:"status,omitempty"`
	// Mode is the application's policy mode.
	Mode policy.Mode `json:"mode"`
	// WouldBlock is set in mode check when block would refuse the login.
	WouldBlock bool `json:"would_block,omitempty"`
	// Reason is the auth-log reason of a refusal (or a would-be refusal in
	// check mode), such as endpoint_is_not_trusted.
	Reason policy.Reason `json:"reason,omitempty"`
	// Failed are the unmet enforced requirements, or why the device could
	// not be checked; Warnings the unmet warn requirements.
	Failed   []policy.Finding `json:"failed"`
	Warnings []policy.Finding `json:"warnings"`
	// Reasons are the reason codes of Failed, as the auth log records them.
	Reasons []string `json:"reasons"`
	// Explanation says in words which branch of the flow decided.
	Explanation string `json:"explanation"`
}

// Decide answers q under the policy p at instant now, with the decisions
// the live flow makes: the access rules first, as in Authenticate (a
// person they refuse is denied with reason not_authorized, whatever the
// device), then the integration's scope and platforms as in
// afterPrimary, the requirements as for a health report (policy.Evaluate),
// and the mode as in finish (policy.Decide). It assumes the person passes
// primary login and approves the login request; a device that reports
// facts other than its last ones may be decided otherwise.
func Decide(p policy.Policy, q Query, now time.Time) Answer {
	a := Answer{Mode: p.Mode, Failed: []policy.Finding{}, Warnings: []policy.Finding{}, Reasons: []string{}}
	if !q.Access.Allows(q.User, q.Email, q.Groups) {
		a.Outcome, a.Reason = Deny, policy.ReasonNotAuthorized
		a.Failed = []policy.Finding{{Requirement: "access", Reason: policy.ReasonNotAuthorized,
			Hint: "This account may not use this application. Ask its administrator for access."}}
		a.Reasons = []string{string(policy.ReasonNotAuthorized)}
		a.Explanation = "The application's access rules (allow) match neither this user name, nor any of these groups, nor this email address: the person gets a 403 after signing in and is never sent to the device check."
		return a
	}
	if p.Mode == policy.ModeOff {
		a.Outcome = Allow
		a.Explanation = "Mode off: no device check; the person gets in after primary login."
		return a
	}
	why := whatIfTrust(p, q, now, &a)
	for _, f := range a.Failed {
		a.Reasons = append(a.Reasons, string(f.Reason))
	}
	a.Explanation = why + whatIfDecide(p.Mode, &a)
	return a
}

// whatIfTrust fills in a's trust status and findings as the live flow
// would reach them, and says in words which branch decided.
func whatIfTrust(p policy.Policy, q Query, now time.Time, a *Answer) string {
	in := p.Integration
	dev := q.Device
	if dev != nil && !dev.Active() {
		dev = nil
	}
	access := whatIfAccessPlatform(q, dev)
	switch {
	case !in.InScope(q.Groups):
		a.Status = policy.Unknown
		a.Failed = []policy.Finding{{Requirement: "device_check", Reason: device.ReasonNotInScope,
			Hint: "Device checks are not enabled for your account yet. Contact your administrator."}}
		if in.State == policy.Groups {
			return fmt.Sprintf("The person is in none of the rollout groups (%s), so no device check applies and the device's trust stays unknown.", strings.Join(in.Groups, ", "))
		}
		return "The mobile integration is disabled, so no device check applies and the device's trust stays unknown."
	case !in.Applies(q.Groups, access):
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{{Requirement: policy.KindPlatform, Reason: policy.ReasonUnsupportedPlatform,
			Hint: "This application needs a checked device. Open it on your iPhone or Android phone with the trustgate app installed."}}
		if access.Supported() {
			return fmt.Sprintf("The access device's platform (%s) is not enabled in the integration, so the mobile app cannot check it: it is not trusted.", access)
		}
		return "The access device is a desktop or another browser the mobile app cannot check: it is not trusted."
	case dev == nil && q.Facts == nil:
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{{Requirement: "device_check", Reason: device.ReasonNoActivatedApp,
			Hint: "Activate the trustgate app on your phone to check your device."}}
		if q.Device != nil {
			return "The device was revoked, so it cannot check the access device: it is not trusted."
		}
		return "The person has no activated (unrevoked) device, so nothing can check the access device: it is not trusted."
	case dev != nil && policy.Platform(dev.Platform) != access && q.Facts == nil:
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{device.NotVerifiedFinding()}
		return fmt.Sprintf("The device (%s) is not the access device (%s): it can approve a login request, which proves the person, but the access device itself is not checked.", dev.Platform, access)
	}
	return whatIfHealth(p, q, now, a)
}

// whatIfAccessPlatform is the platform of the access device: the one
// asked about, or else the facts' or the device's own.
func whatIfAccessPlatform(q Query, device *store.Device) policy.Platform {
	access := policy.Platform(strings.ToLower(strings.TrimSpace(q.AccessPlatform)))
	if access != "" {
		return access
	}
	switch {
	case q.Facts != nil:
		return policy.Platform(strings.ToLower(string(q.Facts.Platform)))
	case device != nil:
		return policy.Platform(device.Platform)
	}
	return access
}

// whatIfHealth evaluates the requirements against the given facts or the
// device's latest report, as for a health report.
func whatIfHealth(p policy.Policy, q Query, now time.Time, a *Answer) string {
	facts, ok := whatIfFacts(q)
	if !ok {
		a.Status = policy.Unknown
		a.Failed = []policy.Finding{{Requirement: "device_check", Reason: device.ReasonNotVerified,
			Hint: "The device has not reported its health yet."}}
		return "The device has never reported its health, so its trust cannot be foreseen: the live check asks it for a report."
	}
	verdict := policy.Evaluate(p.Requirements, facts, now)
	a.Status = verdict.Status()
	a.Failed = append(a.Failed, verdict.Failed...)
	a.Warnings = append(a.Warnings, verdict.Warnings...)
	source := "its latest health report"
	if q.Facts != nil {
		source = "the given health facts"
	}
	switch {
	case verdict.Trusted && len(verdict.Warnings) > 0:
		return "The device meets every enforced requirement with " + source + ", but fails warn-level ones: it is trusted, and the person sees a warning."
	case verdict.Trusted:
		return "The device meets every requirement with " + source + ": it is trusted."
	default:
		return "The device fails enforced requirements with " + source + ": it is not trusted."
	}
}

// whatIfDecide applies the mode to a's status and reasons, as finish does,
// fills in the outcome and returns the sentence that explains it.
func whatIfDecide(mode policy.Mode, a *Answer) string {
	outcome := policy.Decide(mode, a.Status, reasons(a.Reasons))
	a.WouldBlock, a.Reason = outcome.WouldBlock, outcome.Reason
	if outcome.Allow {
		a.Outcome = Allow
	} else {
		a.Outcome = Deny
	}
	switch {
	case mode == policy.ModeCheck && outcome.WouldBlock:
		return " Mode check lets the person in and logs the login as would_block."
	case mode == policy.ModeCheck:
		return " Mode check lets the person in."
	case outcome.Allow:
		return " Mode block lets a trusted device in."
	default:
		return fmt.Sprintf(" Mode %s refuses it.", mode)
	}
}

// whatIfFacts returns the facts to evaluate: the given ones, or the
// device's latest report; false when there are none.
func whatIfFacts(q Query) (policy.Facts, bool) {
	if q.Facts != nil {
		return *q.Facts, true
	}
	var facts policy.Facts
	if q.Device == nil || len(q.Device.Health) == 0 || json.Unmarshal(q.Device.Health, &facts) != nil {
		return facts, false
	}
	return facts, true
}

// reasons turns reason codes into policy reasons.
func reasons(codes []string) []policy.Reason {
	out := make([]policy.Reason, len(codes))
	for i, c := range codes {
		out[i] = policy.Reason(c)
	}
	return out
}
