package prompt

import (
	"context"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

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
		g.storeUnavailable(w, r, "counting passcode attempts", err)
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
		g.storeUnavailable(w, r, "reading devices", err)
		return
	}
	matched, err := g.devices.CheckPasscode(ctx, devices, code)
	if err != nil {
		g.storeUnavailable(w, r, "recording passcode", err)
		return
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
		g.storeUnavailable(w, r, "reading devices", err)
		return
	}
	if len(devices) == 0 {
		g.showPrompt(w, r, f, http.StatusBadRequest, "You have no activated device to send a request to.")
		return
	}
	d := g.cfg.Device
	allowed, err := g.devices.AllowPush(ctx, p.User)
	if err != nil {
		g.storeUnavailable(w, r, "counting login requests", err)
		return
	}
	if !allowed {
		g.showPrompt(w, r, f, http.StatusTooManyRequests, "Too many login requests were sent. Please wait a few minutes, or use a passcode.")
		return
	}
	number := device.MatchNumber()
	now := g.cfg.Now()
	// Each device gets its own copy of the request; the transaction names
	// them all, so that the first answer withdraws the others.
	pushIDs := make([]string, len(devices))
	for i := range devices {
		pushIDs[i] = secret.Token()
	}
	tx, err := g.newTransaction(ctx, r, p, f.Return, txPush, store.TransactionReported, txRecord{
		NumberHash: secret.Hash(number), PushExpires: now.Add(d.PushTimeout), PushIDs: pushIDs,
	})
	if err != nil {
		g.storeUnavailable(w, r, "starting login request", err)
		return
	}
	for i, dev := range devices {
		push := protocol.Push{
			ID: pushIDs[i], Application: g.application(r), User: p.User,
			AccessDevice: device.AccessDescription(tx.Rec.Access), IP: tx.Rec.IP,
			Time: now.UTC(), Expires: tx.Rec.PushExpires.UTC(), NumberMatching: true,
		}
		if err := g.devices.SendPush(ctx, dev.ID, tx.ID, push); err != nil {
			g.storeUnavailable(w, r, "sending login request", err)
			return
		}
	}
	p.PushTx, p.Number = tx.ID, number
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	web.NoStore(w)
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
		g.storeUnavailable(w, r, "reading devices", err)
		return
	}
	if len(devices) > 0 || g.cfg.Device.Policy.Mode != policy.ModeCheck {
		g.showPrompt(w, r, f, http.StatusForbidden, "Use the trustgate app to continue.")
		return
	}
	g.finish(w, r, verification{
		Identity: p.Identity, Factor: p.Factor, Reason: primaryReason(p.Factor), Return: f.Return,
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
	if !secret.Equal(r.PostForm.Get("csrf"), f.CSRF) {
		g.showPrompt(w, r, f, http.StatusForbidden, "Your form expired. Please try again.")
		return nil, false
	}
	return f, true
}
