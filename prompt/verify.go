package prompt

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Factors and reasons of the device check, in the auth log's vocabulary.
const (
	factorMobileInline       = device.FactorMobileInline
	factorPush               = device.FactorPush
	factorPasscode           = "passcode"
	factorManagedCertificate = device.FactorManagedCertificate

	reasonValidPasscode   = "valid_passcode"
	reasonInvalidPasscode = "invalid_passcode"
	reasonNoActivatedApp  = device.ReasonNoActivatedApp
	reasonNoResponse      = "no_response"
	reasonWrongNumber     = device.ReasonWrongNumber
	reasonNotVerified     = device.ReasonNotVerified
	reasonNotInScope      = device.ReasonNotInScope
	// reasonManagedDevice: a managed device's verified certificate vouched
	// for the access device.
	reasonManagedDevice = "valid_device_certificate"
)

// Paths of the browser side of the device check, under ReservedPrefix.
const (
	pathVerify   = ReservedPrefix + "verify"
	pathStatus   = ReservedPrefix + "verify/status"
	pathNext     = ReservedPrefix + "verify/next"
	pathComplete = ReservedPrefix + "verify/complete"
	pathPasscode = ReservedPrefix + "verify/passcode"
	pathPush     = ReservedPrefix + "verify/push"
	pathSkip     = ReservedPrefix + "verify/skip"
)

// pendingLogin is what the flow cookie remembers between primary login and
// the end of the device check.
type pendingLogin struct {
	session.Identity
	// Factor is the primary login's factor (password, oidc).
	Factor string `json:"pf"`
	// Secret binds the browser to its transactions: they store its hash.
	Secret string `json:"s"`
	// Tx and Challenge are the inline transaction and its challenge.
	Tx        string `json:"tx,omitempty"`
	Challenge string `json:"ch,omitempty"`
	// PushTx and Number are a login request sent to another device and
	// the number the person must type there.
	PushTx string `json:"ptx,omitempty"`
	Number string `json:"num,omitempty"`
	// Activation is an enrollment code shown on the prompt.
	Activation string `json:"act,omitempty"`
}

// verification is the proven result of a device check, ready to be decided
// under the mode, recorded and turned into a session.
type verification struct {
	session.Identity
	Factor string
	Reason string // auth-log reason on success
	Return string
	Status policy.Status
	// Failed are the unmet enforced requirements (or why the device could
	// not be checked); Warnings the unmet warn requirements.
	Failed   []policy.Finding
	Warnings []policy.Finding
	DeviceID string
	Facts    json.RawMessage
	Unbound  bool
	// Integration is the integration that decided (integrationMobile,
	// integrationManaged), empty when none did; Certificate, the digest
	// of the managed device's certificate the trust is bound to; Detail,
	// the auth log's note for operators.
	Integration string
	Certificate string
	Detail      string
	// Degraded says storage was unreachable, so no check could run; the
	// fail mode decides.
	Degraded bool
	// tx, when set, supplies the access device, IP and user agent of the
	// browser that started the check.
	tx *device.Transaction
	// complete says tx is approved and finish uses it up (approved to
	// completed) in the commit that records the login.
	complete bool
}

// inScope reports whether the mobile check applies to a user in groups on
// any enabled platform.
func (d *DeviceTrust) inScope(groups []string) bool {
	return d.Policy.Integration.InScope(groups)
}

// afterPrimary continues a successful primary login (or a session whose
// trust must be decided again) with the device check of the integration
// that decides for the person on the access device's platform: the mobile
// app's prompt, or the managed device's certificate.
func (g *Gate) afterPrimary(w http.ResponseWriter, r *http.Request, returnTo string, id session.Identity, factor string) error {
	d := g.cfg.Device
	v := verification{Identity: id, Factor: factor, Reason: primaryReason(factor), Return: returnTo, Status: policy.Unknown}
	switch d.Policy.Decider(id.Groups, accessPlatform(accessdevice.Classify(r))) {
	case policy.DecidedByMobile:
		return g.startMobileCheck(w, r, returnTo, id, factor)
	case policy.DecidedByManaged:
		v = g.managedCheck(r, v)
	default:
		v.Status, v.Failed = d.uncheckable(id.Groups)
	}
	return g.finish(w, r, v)
}

// startMobileCheck sends the person to the prompt page, with a login flow
// that remembers the primary login.
func (g *Gate) startMobileCheck(w http.ResponseWriter, r *http.Request, returnTo string, id session.Identity, factor string) error {
	f := g.newFlow(returnTo)
	f.CSRF = secret.Token()
	f.Pending = &pendingLogin{Identity: id, Factor: factor, Secret: secret.Token()}
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	web.NoStore(w)
	http.Redirect(w, r, pathVerify, http.StatusSeeOther)
	return nil
}

// uncheckable is the trust of an access device that no integration
// decides for: unknown when no device check applies to the person at all,
// else not trusted, since its platform is one no integration covers.
func (d *DeviceTrust) uncheckable(groups []string) (policy.Status, []policy.Finding) {
	managed := d.Policy.Managed.InScope(groups)
	if !d.inScope(groups) && !managed {
		return policy.Unknown, []policy.Finding{{Requirement: "device_check", Reason: reasonNotInScope,
			Hint: "Device checks are not enabled for your account yet. Contact your administrator."}}
	}
	hint := "This application needs a checked device. Open it on your iPhone or Android phone with the trustgate app installed."
	if managed {
		hint = "This application needs a checked device: a computer your organisation manages, or a phone with the trustgate app where your organisation uses it."
	}
	return policy.NotTrusted, []policy.Finding{{Requirement: policy.KindPlatform, Reason: policy.ReasonUnsupportedPlatform, Hint: hint}}
}

// finish decides a verification under the mode, records it, and starts the
// session or shows the denial page. The auth-log entry is durable before
// the session cookie is issued.
func (g *Gate) finish(w http.ResponseWriter, r *http.Request, v verification) error {
	d := g.cfg.Device
	mode := d.Policy.Mode
	if v.Degraded {
		mode = policy.ModeCheck // fail modes safe and check both let people in
	}
	failedCodes := findingReasons(v.Failed)
	outcome := policy.Decide(mode, v.Status, reasonList(failedCodes))
	if v.Degraded && g.cfg.FailMode == FailSafe {
		outcome.WouldBlock = false
	}
	entry := store.AuthLogEntry{
		User: v.User, Email: v.Email, Groups: v.Groups,
		Factor: v.Factor, TrustStatus: string(v.Status), Mode: string(mode),
		WouldBlock: outcome.WouldBlock, FailedRequirements: failedCodes, Warnings: findingReasons(v.Warnings),
		DeviceID: v.DeviceID, DeviceFacts: v.Facts, Unbound: v.Unbound,
		Integration: v.Integration, Detail: v.Detail,
	}
	if v.tx != nil {
		entry.IP, entry.UserAgent, entry.AccessDevice = v.tx.Rec.IP, v.tx.Rec.UserAgent, v.tx.Rec.Access
	}
	if outcome.Allow {
		entry.Result, entry.Reason = store.ResultSuccess, v.Reason
	} else {
		entry.Result, entry.Reason = store.ResultDenied, string(outcome.Reason)
	}
	if v.complete {
		if ok, err := g.completeAndRecord(r, v.tx, entry); !ok {
			return err
		}
	} else {
		if v.tx != nil {
			g.verificationFinished(v.tx, entry.Result)
		}
		if err := g.record(r, entry); err != nil && !g.degrade(r, "recording login", err) {
			return g.errUnavailable(r, "recording login", err)
		}
	}
	g.clearFlow(w, r)
	if !outcome.Allow {
		g.renderDenied(w, r, v.Integration, v.Failed, v.Warnings)
		return nil
	}
	now := g.cfg.Now()
	trust := session.Trust{
		Status: string(v.Status), DeviceID: v.DeviceID, DeviceCertificate: v.Certificate,
		Failed: failedCodes, Warnings: entry.Warnings, Expires: now.Add(d.TrustFor),
	}
	if v.Degraded {
		trust.Expires = now.Add(min(d.TrustFor, degradedTrustFor))
	}
	if _, err := g.startSession(w, r, v.Identity, v.Factor, &trust); err != nil {
		return errInternal("encoding session", err)
	}
	if v.DeviceID != "" {
		d.Cache.Put(v.User, v.DeviceID, g.trustScope, device.TrustDecision{
			Status: trust.Status, Failed: trust.Failed, Warnings: trust.Warnings, Expires: trust.Expires,
		})
	}
	if len(v.Warnings) > 0 {
		g.renderNotice(w, r, v.Warnings, v.Return)
		return nil
	}
	web.NoStore(w)
	http.Redirect(w, r, v.Return, http.StatusSeeOther)
	return nil
}

func findingReasons(fs []policy.Finding) []string {
	if len(fs) == 0 {
		return nil
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f.Reason)
	}
	return out
}

func reasonList(codes []string) []policy.Reason {
	out := make([]policy.Reason, len(codes))
	for i, c := range codes {
		out[i] = policy.Reason(c)
	}
	return out
}

// pendingFlow returns the request's flow with a pending device check, or
// the error that tells the person their sign-in expired.
func (g *Gate) pendingFlow(r *http.Request) (*flow, error) {
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil {
		return nil, pageErr(http.StatusBadRequest, "Sign-in expired",
			"Your sign-in took too long or was started in another browser. Please sign in again.", ReservedPrefix+"login")
	}
	return f, nil
}

// ownTransaction loads transaction id and checks that it was started by
// this browser.
func (g *Gate) ownTransaction(ctx context.Context, p *pendingLogin, id string) (*device.Transaction, error) {
	if id == "" {
		return nil, store.ErrNotFound
	}
	tx, err := g.loadTransaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if tx.User != p.User || !secret.Equal(secret.Hash(p.Secret), tx.Rec.BrowserHash) {
		return nil, store.ErrNotFound
	}
	return tx, nil
}
