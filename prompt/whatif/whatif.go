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
	// "ios" or "android", "windows", "macos" or "linux" (which a managed
	// device may vouch for), or anything else ("desktop", an unknown
	// browser), which no integration can check. Empty means the verifying
	// device's own platform: the person opens the application on that
	// phone.
	AccessPlatform string
	// Device is the activated device that would check itself, or nil when
	// the person has none. A revoked device counts as none.
	Device *store.Device
	// Facts, when set, are the health facts to evaluate, instead of the
	// device's latest report. With Facts and no Device, the person is
	// taken to have an activated device that reports them.
	Facts *policy.Facts
	// ManagedDevice is the active inventory's entry for the certificate
	// the browser would present, verified; nil when it presents none the
	// inventory holds. Read only where the managed integration decides.
	ManagedDevice *store.InventoryEntry
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
	// Integration is the integration that decides for the person on the
	// access platform: "mobile" (the app checks the phone) or "managed" (a
	// managed device's certificate); empty when none does.
	Integration policy.Decider `json:"integration,omitempty"`
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
	dev := q.Device
	if dev != nil && !dev.Active() {
		dev = nil
	}
	access := whatIfAccessPlatform(q, dev)
	a.Integration = p.Decider(q.Groups, access)
	switch a.Integration {
	case policy.DecidedByMobile:
		return whatIfMobile(p, q, dev, access, now, a)
	case policy.DecidedByManaged:
		return whatIfManaged(p, q, access, a)
	}
	in := p.Integration
	switch {
	case !in.InScope(q.Groups) && !p.Managed.InScope(q.Groups):
		a.Status = policy.Unknown
		a.Failed = []policy.Finding{{Requirement: "device_check", Reason: device.ReasonNotInScope,
			Hint: "Device checks are not enabled for your account yet. Contact your administrator."}}
		if in.State == policy.Groups {
			return fmt.Sprintf("The person is in none of the rollout groups (%s), so no device check applies and the device's trust stays unknown.", strings.Join(in.Groups, ", "))
		}
		return "The mobile integration is disabled, so no device check applies and the device's trust stays unknown."
	default:
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{{Requirement: policy.KindPlatform, Reason: policy.ReasonUnsupportedPlatform,
			Hint: "This application needs a checked device. Open it on your iPhone or Android phone with the trustgate app installed."}}
		if access.Supported() {
			return fmt.Sprintf("The access device's platform (%s) is not enabled in the mobile integration, and no managed device vouches for it: it is not trusted.", access)
		}
		return "The access device is a desktop or another browser that neither the mobile app nor a managed device's certificate can vouch for here: it is not trusted."
	}
}

// whatIfMobile is whatIfTrust where the mobile app decides.
func whatIfMobile(p policy.Policy, q Query, dev *store.Device, access policy.Platform, now time.Time, a *Answer) string {
	switch {
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

// whatIfManaged is whatIfTrust where a managed device's certificate
// decides, as the gate's managedCheck does.
func whatIfManaged(p policy.Policy, q Query, access policy.Platform, a *Answer) string {
	e := q.ManagedDevice
	switch {
	case e == nil:
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{device.NoDeviceCertificateFinding()}
		return fmt.Sprintf("The managed-device integration decides on %s: without the verified certificate of a device in the active inventory, the access device is not trusted.", access)
	case p.Decider(q.Groups, policy.Platform(e.Platform)) != policy.DecidedByManaged:
		a.Status = policy.NotTrusted
		a.Failed = []policy.Finding{device.NotManagedFinding()}
		return fmt.Sprintf("The managed-device integration decides on %s, but the inventory's device is on %s, which it does not vouch for this person: it is not trusted.", access, e.Platform)
	}
	a.Status = policy.Trusted
	return fmt.Sprintf("The managed-device integration decides on %s, and the browser's certificate names a device of the active inventory: it is trusted.", access)
}

// whatIfAccessPlatform is the platform of the access device: the one
// asked about, or else the facts', the device's or the managed device's
// own.
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
	case q.ManagedDevice != nil:
		return policy.Platform(q.ManagedDevice.Platform)
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
