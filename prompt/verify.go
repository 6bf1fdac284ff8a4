package prompt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math/big"
	"net/http"
	"slices"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// Factors and reasons of the device check, in the auth log's vocabulary.
const (
	factorMobileInline = "mobile_inline"
	factorPush         = "push"
	factorPasscode     = "passcode"

	reasonValidPasscode   = "valid_passcode"
	reasonInvalidPasscode = "invalid_passcode"
	reasonNoActivatedApp  = "no_activated_mobile_app"
	reasonNoResponse      = "no_response"
	reasonWrongNumber     = "wrong_number"
	// reasonNotVerified: the person proved who they are (passcode, push to
	// another device) but the access device itself was not checked.
	reasonNotVerified = "device_not_verified"
	// reasonNotInScope: the mobile check does not apply to the person
	// (integration disabled or user outside its groups).
	reasonNotInScope = "device_check_not_enabled"
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
	Identity
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
	Identity
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
	// tx, when set, supplies the access device, IP and user agent of the
	// browser that started the check.
	tx *transaction
}

// inScope reports whether the mobile check applies to a user in groups on
// any enabled platform.
func (d *DeviceTrust) inScope(groups []string) bool {
	in := d.Policy.Integration
	return in.Applies(groups, policy.IOS) || in.Applies(groups, policy.Android)
}

// afterPrimary continues a successful primary login (or a session whose
// trust must be decided again) with the device check.
func (g *Gate) afterPrimary(w http.ResponseWriter, r *http.Request, returnTo string, id Identity, factor string) {
	d := g.cfg.Device
	access := ClassifyAccessDevice(r)
	platform := policy.Platform(access.Platform)
	if d.inScope(id.Groups) && d.Policy.Integration.Applies(id.Groups, platform) {
		f := g.newFlow(returnTo)
		f.CSRF = RandomToken()
		f.Pending = &pendingLogin{Identity: id, Factor: factor, Secret: RandomToken()}
		if err := g.setFlow(w, r, f); err != nil {
			g.internalError(w, r, "encoding login flow", err)
			return
		}
		noStore(w)
		http.Redirect(w, r, pathVerify, http.StatusSeeOther)
		return
	}
	v := verification{Identity: id, Factor: factor, Reason: reasonUserApproved, Return: returnTo, Status: policy.Unknown}
	switch {
	case !d.inScope(id.Groups):
		v.Failed = []policy.Finding{{Requirement: "device_check", Reason: reasonNotInScope,
			Hint: "Device checks are not enabled for your account yet. Contact your administrator."}}
	default:
		v.Status = policy.NotTrusted
		v.Failed = []policy.Finding{{Requirement: policy.KindPlatform, Reason: policy.ReasonUnsupportedPlatform,
			Hint: "This application needs a checked device. Open it on your iPhone or Android phone with the trustgate app installed."}}
	}
	g.finish(w, r, v)
}

// finish decides a verification under the mode, records it, and starts the
// session or shows the denial page. The auth-log entry is durable before
// the session cookie is issued.
func (g *Gate) finish(w http.ResponseWriter, r *http.Request, v verification) {
	d := g.cfg.Device
	mode := d.Policy.Mode
	failedCodes := findingReasons(v.Failed)
	outcome := policy.Decide(mode, v.Status, reasonList(failedCodes))
	entry := store.AuthLogEntry{
		User: v.User, Email: v.Email, Groups: v.Groups,
		Factor: v.Factor, TrustStatus: string(v.Status), Mode: string(mode),
		WouldBlock: outcome.WouldBlock, FailedRequirements: failedCodes, Warnings: findingReasons(v.Warnings),
		DeviceID: v.DeviceID, DeviceFacts: v.Facts, Unbound: v.Unbound,
	}
	if v.tx != nil {
		entry.IP, entry.UserAgent, entry.AccessDevice = v.tx.rec.IP, v.tx.rec.UserAgent, v.tx.rec.Access
	}
	if outcome.Allow {
		entry.Result, entry.Reason = store.ResultSuccess, v.Reason
	} else {
		entry.Result, entry.Reason = store.ResultDenied, string(outcome.Reason)
	}
	if err := g.record(r, entry); err != nil {
		g.unavailable(w, r, "recording login", err)
		return
	}
	g.clearFlow(w, r)
	if !outcome.Allow {
		g.renderDenied(w, r, v.Failed, v.Warnings)
		return
	}
	now := g.cfg.Now()
	trust := sessionTrust{
		Status: string(v.Status), DeviceID: v.DeviceID, Failed: failedCodes, Warnings: entry.Warnings,
		Expires: now.Add(d.TrustFor),
	}
	if _, err := g.startSession(w, r, v.Identity, v.Factor, &trust); err != nil {
		g.internalError(w, r, "encoding session", err)
		return
	}
	if v.DeviceID != "" {
		d.Cache.Put(v.User, v.DeviceID, g.policyHash, TrustDecision{
			Status: trust.Status, Failed: trust.Failed, Warnings: trust.Warnings, Expires: trust.Expires,
		})
	}
	if len(v.Warnings) > 0 {
		g.renderNotice(w, r, v.Warnings, v.Return)
		return
	}
	noStore(w)
	http.Redirect(w, r, v.Return, http.StatusSeeOther)
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
// shows the person that their sign-in expired.
func (g *Gate) pendingFlow(w http.ResponseWriter, r *http.Request) (*flow, bool) {
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil {
		g.renderMessage(w, r, http.StatusBadRequest, "Sign-in expired",
			"Your sign-in took too long or was started in another browser. Please sign in again.", ReservedPrefix+"login")
		return nil, false
	}
	return f, true
}

// ownTransaction loads transaction id and checks that it was started by
// this browser.
func (g *Gate) ownTransaction(ctx context.Context, p *pendingLogin, id string) (*transaction, error) {
	if id == "" {
		return nil, store.ErrNotFound
	}
	tx, err := g.loadTransaction(ctx, id)
	if err != nil {
		return nil, err
	}
	if tx.User != p.User || !equalTokens(hashSecret(p.Secret), tx.rec.BrowserHash) {
		return nil, store.ErrNotFound
	}
	return tx, nil
}

// serveVerify shows the prompt page: the deep links into the app for an
// inline check, the other factors, and enrollment.
func (g *Gate) serveVerify(w http.ResponseWriter, r *http.Request) {
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return
	}
	g.showPrompt(w, r, f, http.StatusOK, "")
}

// showPrompt renders the prompt for f, starting a fresh inline transaction
// when there is none or the last one is over.
func (g *Gate) showPrompt(w http.ResponseWriter, r *http.Request, f *flow, status int, errMsg string) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	p := f.Pending
	now := g.cfg.Now()
	tx, err := g.ownTransaction(ctx, p, p.Tx)
	timedOut := false
	switch {
	case err == nil && tx.State == store.TransactionDenied:
		g.showDenial(w, r, tx)
		return
	case err == nil && tx.State == store.TransactionReported && !now.Before(tx.rec.PushExpires):
		// The login request lapsed: say so, and let the app try again on
		// a fresh transaction.
		g.recordNoResponse(r, tx)
		timedOut = true
		fallthrough
	case err == nil && (!now.Before(tx.Expires) || tx.State != store.TransactionPending && tx.State != store.TransactionReported && tx.State != store.TransactionApproved),
		errors.Is(err, store.ErrNotFound):
		challenge := RandomToken()
		tx, err = g.newTransaction(ctx, r, p, f.Return, txInline, store.TransactionPending, txRecord{ChallengeHash: hashSecret(challenge)})
		if err != nil {
			g.unavailable(w, r, "starting device check", err)
			return
		}
		p.Tx, p.Challenge = tx.ID, challenge
	case err != nil:
		g.unavailable(w, r, "loading device check", err)
		return
	}
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		g.unavailable(w, r, "reading devices", err)
		return
	}
	data := promptData{Pending: p, Devices: len(devices), TimedOut: timedOut || r.URL.Query().Get("timeout") != ""}
	if p.PushTx != "" {
		if ptx, err := g.ownTransaction(ctx, p, p.PushTx); err == nil && ptx.State == store.TransactionReported && now.Before(ptx.rec.PushExpires) {
			data.Number = p.Number
		}
	}
	origin := requestOrigin(r)
	appLink, httpsLink := verifyLinks(origin, tx.ID, p.Challenge)
	// The links are built from escaped parts; template.URL lets their
	// trustgate: and intent: schemes through html/template.
	data.AppLink, data.HTTPSLink = template.URL(appLink), httpsLink
	if pkg := g.androidPackage(); pkg != "" && ClassifyAccessDevice(r).Platform == string(policy.Android) {
		data.IntentLink = template.URL(intentLink(httpsLink, pkg))
	}
	for _, d := range devices {
		name := d.Model
		if name == "" {
			name = "your " + d.Platform + " device"
		}
		data.DeviceNames = append(data.DeviceNames, name)
	}
	if len(devices) == 0 && g.cfg.Device.Enrollment {
		if p.Activation == "" {
			code, err := IssueActivation(ctx, g.cfg.Store, p.User, g.cfg.Device.ActivationTTL, now)
			if err != nil {
				g.unavailable(w, r, "issuing activation code", err)
				return
			}
			p.Activation = code
		}
		actApp, actHTTPS := ActivationLinks(origin, p.Activation)
		data.ActivationApp, data.ActivationHTTPS = template.URL(actApp), actHTTPS
		qr, err := qrCodeDataURI(actApp)
		if err != nil {
			g.cfg.Logger.Warn("drawing activation QR code", zap.Error(err))
		}
		data.ActivationQR = qr
	}
	data.CanSkip = len(devices) == 0 && g.cfg.Device.Policy.Mode == policy.ModeCheck
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	w.Header().Set("Accept-CH", AcceptClientHints)
	g.renderPrompt(w, r, status, f, data, errMsg)
}

func (g *Gate) activeDevices(ctx context.Context, user string) ([]store.Device, error) {
	all, err := g.cfg.Store.UserDevices(ctx, user)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(d store.Device) bool { return !d.Active() }), nil
}

func (g *Gate) androidPackage() string {
	if apps := g.cfg.Device.AndroidApps; len(apps) > 0 {
		return apps[0].Package
	}
	return ""
}

// recordNoResponse records, once per transaction, that the person did not
// answer the login request in time.
func (g *Gate) recordNoResponse(r *http.Request, tx *transaction) {
	fresh, err := g.cfg.Store.UseOnce(r.Context(), "noresponse:"+tx.ID, tx.Expires)
	if err != nil || !fresh {
		return
	}
	_ = g.recordTx(r, tx, nil, store.ResultDenied, reasonNoResponse, factorOf(tx), false)
}

// status is what the waiting page's script reads.
type status struct {
	State   string `json:"state"`
	Message string `json:"message"`
	// Next, when set, is where the page goes now.
	Next string `json:"next,omitempty"`
}

// checkStatus works out where the pending check stands.
func (g *Gate) checkStatus(ctx context.Context, p *pendingLogin) status {
	now := g.cfg.Now()
	if p.PushTx != "" {
		if tx, err := g.ownTransaction(ctx, p, p.PushTx); err == nil {
			switch {
			case tx.State == store.TransactionApproved || tx.State == store.TransactionDenied:
				return status{State: tx.State, Message: "Answered on your other device.", Next: pathComplete + "?push=1"}
			case tx.State == store.TransactionReported && now.Before(tx.rec.PushExpires):
				return status{State: "waiting_approval", Message: "Approve the request on your other device and type the number shown here."}
			}
		}
	}
	tx, err := g.ownTransaction(ctx, p, p.Tx)
	if err != nil {
		return status{State: "expired", Message: "This check has expired.", Next: pathVerify}
	}
	switch tx.State {
	case store.TransactionPending:
		if !now.Before(tx.Expires) {
			return status{State: "expired", Message: "This check has expired.", Next: pathVerify}
		}
		return status{State: "waiting", Message: "Waiting for the trustgate app to check this device…"}
	case store.TransactionReported:
		if !now.Before(tx.rec.PushExpires) {
			return status{State: "timeout", Message: "No answer from the app in time.", Next: pathVerify + "?timeout=1"}
		}
		return status{State: "waiting_approval", Message: "Device checked. Approve the sign-in in the trustgate app."}
	case store.TransactionApproved:
		if g.cfg.Device.Unbound {
			return status{State: "approved", Message: "Approved.", Next: pathComplete}
		}
		return status{State: "approved", Message: "Approved in the app. The app brings you back to finish; if it did not, go back to the app and tap Continue."}
	case store.TransactionDenied:
		return status{State: "denied", Message: "Sign-in denied.", Next: pathComplete}
	}
	return status{State: tx.State, Message: "This check is finished.", Next: pathVerify}
}

// serveStatus answers the waiting page's poll.
func (g *Gate) serveStatus(w http.ResponseWriter, r *http.Request) {
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil {
		writeJSON(w, http.StatusOK, status{State: "expired", Message: "Your sign-in expired.", Next: ReservedPrefix + "login"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	writeJSON(w, http.StatusOK, g.checkStatus(ctx, f.Pending))
}

// serveNext is the no-script "Continue" button: it goes where the waiting
// page's script would go.
func (g *Gate) serveNext(w http.ResponseWriter, r *http.Request) {
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	next := g.checkStatus(ctx, f.Pending).Next
	if next == "" {
		next = pathVerify
	}
	noStore(w)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// serveComplete finishes a check that may complete without the return
// link (a push to another device, or an unbound site), and shows denials.
func (g *Gate) serveComplete(w http.ResponseWriter, r *http.Request) {
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return
	}
	p := f.Pending
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	id := p.Tx
	if r.URL.Query().Get("push") != "" {
		id = p.PushTx
	}
	tx, err := g.ownTransaction(ctx, p, id)
	if err != nil {
		http.Redirect(w, r, pathVerify, http.StatusSeeOther)
		return
	}
	switch {
	case tx.State == store.TransactionDenied:
		g.showDenial(w, r, tx)
	case tx.State == store.TransactionApproved && (tx.rec.Kind == txPush || g.cfg.Device.Unbound):
		g.completeTransaction(w, r, f, tx, tx.rec.Kind == txInline)
	default:
		http.Redirect(w, r, pathVerify, http.StatusSeeOther)
	}
}

// serveReturn is the return link the app opens in the phone's browser after
// approving an inline check: only the browser that started the check holds
// the flow cookie that completes it.
func (g *Gate) serveReturn(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	txID, code := q.Get(protocol.ParamTransaction), q.Get(protocol.ParamCode)
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil || f.Pending.Tx == "" || !equalTokens(f.Pending.Tx, txID) {
		g.cfg.Logger.Warn("return link opened without its browser", zap.String("ip", g.cfg.ClientIP(r)))
		g.renderMessage(w, r, http.StatusForbidden, "Open in your browser",
			"Finish signing in in the browser where you started: this link only works there.", "")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	tx, err := g.ownTransaction(ctx, f.Pending, txID)
	if err != nil || tx.State != store.TransactionApproved || !equalTokens(hashSecret(code), tx.rec.ReturnHash) {
		if err == nil && tx.State == store.TransactionDenied {
			g.showDenial(w, r, tx)
			return
		}
		g.renderMessage(w, r, http.StatusForbidden, "Link not valid",
			"This sign-in link is not valid any more. Please start again.", pathVerify)
		return
	}
	g.completeTransaction(w, r, f, tx, false)
}

// completeTransaction uses an approved transaction once and finishes the
// login it proves.
func (g *Gate) completeTransaction(w http.ResponseWriter, r *http.Request, f *flow, tx *transaction, unbound bool) {
	if err := g.transition(r.Context(), tx, store.TransactionApproved, store.TransactionCompleted, ""); err != nil {
		if errors.Is(err, store.ErrConflict) {
			g.renderMessage(w, r, http.StatusConflict, "Already used", "This sign-in was already completed.", pathVerify)
			return
		}
		g.unavailable(w, r, "completing device check", err)
		return
	}
	v := verification{
		Identity: tx.rec.Identity, Return: tx.rec.Return, DeviceID: tx.DeviceID, tx: tx,
		Reason: reasonUserApproved,
	}
	switch tx.rec.Kind {
	case txInline:
		v.Factor, v.Facts, v.Unbound = factorMobileInline, tx.rec.Facts, unbound
		if vd := tx.rec.Verdict; vd != nil && tx.rec.PolicyHash == g.policyHash {
			v.Status, v.Failed, v.Warnings = vd.Status(), vd.Failed, vd.Warnings
		} else {
			// The policy changed while the person approved: nothing is
			// proven under the new one.
			v.Status = policy.NotTrusted
			v.Failed = []policy.Finding{{Requirement: "device_check", Reason: reasonNotVerified, Hint: "The device policy changed during your sign-in. Please sign in again."}}
		}
	default:
		v.Factor, v.DeviceID = factorPush, ""
		v.Status = policy.NotTrusted
		v.Failed = []policy.Finding{notVerifiedFinding()}
	}
	g.finish(w, r, v)
}

func notVerifiedFinding() policy.Finding {
	return policy.Finding{Requirement: "device_check", Reason: reasonNotVerified,
		Hint: "You proved who you are, but this device was not checked. Open this page on your phone with the trustgate app to check it."}
}

// showDenial shows why a transaction was denied.
func (g *Gate) showDenial(w http.ResponseWriter, r *http.Request, tx *transaction) {
	g.clearFlow(w, r)
	switch tx.rec.Reason {
	case protocol.DenyCancelled, protocol.DenyFraud:
		g.renderMessage(w, r, http.StatusForbidden, "Sign-in denied", "The sign-in was denied in the trustgate app.", ReservedPrefix+"login")
	case reasonWrongNumber:
		g.renderMessage(w, r, http.StatusForbidden, "Sign-in denied", "The number typed in the app did not match. The sign-in was denied.", ReservedPrefix+"login")
	default:
		var failed, warnings []policy.Finding
		if tx.rec.Verdict != nil {
			failed, warnings = tx.rec.Verdict.Failed, tx.rec.Verdict.Warnings
		}
		g.renderDenied(w, r, failed, warnings)
	}
}

// submitPasscode checks a passcode from the app, typed in the browser.
func (g *Gate) submitPasscode(w http.ResponseWriter, r *http.Request) {
	f, ok := g.postedPendingForm(w, r)
	if !ok {
		return
	}
	p := f.Pending
	code := r.PostForm.Get("passcode")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	lockKey := "passcode:" + p.User
	allowed, err := g.beginAttemptLimit(ctx, lockKey, g.cfg.Device.PasscodeAttempts)
	if err != nil {
		g.unavailable(w, r, "counting passcode attempts", err)
		return
	}
	if !allowed {
		_ = g.record(r, store.AuthLogEntry{User: p.User, Email: p.Email, Groups: p.Groups, Result: store.ResultDenied,
			Reason: reasonLockedOut, Factor: factorPasscode, Mode: string(g.cfg.Device.Policy.Mode)})
		g.showPrompt(w, r, f, http.StatusTooManyRequests, "Too many wrong passcodes. Please wait a while and try again.")
		return
	}
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		g.unavailable(w, r, "reading devices", err)
		return
	}
	now := g.cfg.Now()
	var matched *store.Device
	for i := range devices {
		d := &devices[i]
		if d.PasscodeSecret == "" {
			continue
		}
		step, ok := matchPasscode(d.PasscodeSecret, code, now)
		if !ok {
			continue
		}
		fresh, err := g.cfg.Store.UseOnce(ctx, fmt.Sprintf("passcode:%s:%d", d.ID, step), now.Add(3*passcodePeriod))
		if err != nil {
			g.unavailable(w, r, "recording passcode", err)
			return
		}
		if fresh {
			matched = d
		}
		break
	}
	if matched == nil {
		_ = g.record(r, store.AuthLogEntry{User: p.User, Email: p.Email, Groups: p.Groups, Result: store.ResultDenied,
			Reason: reasonInvalidPasscode, Factor: factorPasscode, Mode: string(g.cfg.Device.Policy.Mode)})
		g.showPrompt(w, r, f, http.StatusUnauthorized, "That passcode is not valid. Enter the current code from the trustgate app.")
		return
	}
	g.attemptSucceeded(ctx, lockKey)
	g.finish(w, r, verification{
		Identity: p.Identity, Factor: factorPasscode, Reason: reasonValidPasscode, Return: f.Return,
		Status: policy.NotTrusted, Failed: []policy.Finding{notVerifiedFinding()},
	})
}

// submitPush sends a login request to the person's activated devices, with
// a number to type there (number matching).
func (g *Gate) submitPush(w http.ResponseWriter, r *http.Request) {
	f, ok := g.postedPendingForm(w, r)
	if !ok {
		return
	}
	p := f.Pending
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		g.unavailable(w, r, "reading devices", err)
		return
	}
	if len(devices) == 0 {
		g.showPrompt(w, r, f, http.StatusBadRequest, "You have no activated device to send a request to.")
		return
	}
	d := g.cfg.Device
	allowed, err := g.countUse(ctx, "push:"+p.User, d.PushLimit, d.PushWindow)
	if err != nil {
		g.unavailable(w, r, "counting login requests", err)
		return
	}
	if !allowed {
		g.showPrompt(w, r, f, http.StatusTooManyRequests, "Too many login requests were sent. Please wait a few minutes, or use a passcode.")
		return
	}
	number := matchNumber()
	now := g.cfg.Now()
	tx, err := g.newTransaction(ctx, r, p, f.Return, txPush, store.TransactionReported, txRecord{
		NumberHash: hashSecret(number), PushExpires: now.Add(d.PushTimeout),
	})
	if err != nil {
		g.unavailable(w, r, "starting login request", err)
		return
	}
	for _, dev := range devices {
		push := protocol.Push{
			ID: RandomToken(), Application: g.application(r), User: p.User,
			AccessDevice: accessDescription(tx.rec.Access), IP: tx.rec.IP,
			Time: now.UTC(), Expires: tx.rec.PushExpires.UTC(), NumberMatching: true,
		}
		if err := g.sendPush(ctx, dev.ID, tx.ID, push); err != nil {
			g.unavailable(w, r, "sending login request", err)
			return
		}
	}
	p.PushTx, p.Number = tx.ID, number
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	noStore(w)
	http.Redirect(w, r, pathVerify, http.StatusSeeOther)
}

// submitSkip lets a person without an activated app in, in mode check,
// recording that the device was not checked.
func (g *Gate) submitSkip(w http.ResponseWriter, r *http.Request) {
	f, ok := g.postedPendingForm(w, r)
	if !ok {
		return
	}
	p := f.Pending
	devices, err := g.activeDevices(r.Context(), p.User)
	if err != nil {
		g.unavailable(w, r, "reading devices", err)
		return
	}
	if len(devices) > 0 || g.cfg.Device.Policy.Mode != policy.ModeCheck {
		g.showPrompt(w, r, f, http.StatusForbidden, "Use the trustgate app to continue.")
		return
	}
	g.finish(w, r, verification{
		Identity: p.Identity, Factor: p.Factor, Reason: reasonUserApproved, Return: f.Return,
		Status: policy.NotTrusted,
		Failed: []policy.Finding{{Requirement: "device_check", Reason: reasonNoActivatedApp,
			Hint: "Activate the trustgate app on your phone to check your device."}},
	})
}

// postedPendingForm reads a posted prompt form and checks its CSRF token
// against the flow cookie.
func (g *Gate) postedPendingForm(w http.ResponseWriter, r *http.Request) (*flow, bool) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		g.renderMessage(w, r, http.StatusMethodNotAllowed, "Not allowed", "That method is not allowed here.", pathVerify)
		return nil, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		g.renderMessage(w, r, http.StatusRequestEntityTooLarge, "Form not read", "The form could not be read. Please try again.", pathVerify)
		return nil, false
	}
	f, ok := g.pendingFlow(w, r)
	if !ok {
		return nil, false
	}
	if !equalTokens(r.PostForm.Get("csrf"), f.CSRF) {
		g.showPrompt(w, r, f, http.StatusForbidden, "Your form expired. Please try again.")
		return nil, false
	}
	return f, true
}

// matchNumber returns a two-digit number for number matching.
func matchNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(90))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%02d", n.Int64()+10)
}
