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
func (g *Gate) submitPasscode(w http.ResponseWriter, r *http.Request) error {
	f, err := g.postedPendingForm(w, r)
	if f == nil {
		return err
	}
	p := f.Pending
	code := r.PostForm.Get("passcode")
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	lockKey := "passcode:" + p.User
	allowed, err := g.beginAttemptLimit(ctx, lockKey, g.cfg.Device.PasscodeAttempts)
	if err != nil {
		return g.errStoreUnavailable(r, "counting passcode attempts", err)
	}
	if !allowed {
		_ = g.record(r, store.AuthLogEntry{User: p.User, Email: p.Email, Groups: p.Groups, Result: store.ResultDenied,
			Reason: reasonLockedOut, Factor: factorPasscode, Mode: string(g.cfg.Device.Policy.Mode), Integration: integrationMobile})
		return g.showPrompt(w, r, f, http.StatusTooManyRequests, "Too many wrong passcodes. Please wait a while and try again.")
	}
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		return g.errStoreUnavailable(r, "reading devices", err)
	}
	matched, err := g.devices.CheckPasscode(ctx, devices, code)
	if err != nil {
		return g.errStoreUnavailable(r, "recording passcode", err)
	}
	if matched == nil {
		_ = g.record(r, store.AuthLogEntry{User: p.User, Email: p.Email, Groups: p.Groups, Result: store.ResultDenied,
			Reason: reasonInvalidPasscode, Factor: factorPasscode, Mode: string(g.cfg.Device.Policy.Mode), Integration: integrationMobile})
		return g.showPrompt(w, r, f, http.StatusUnauthorized, "That passcode is not valid. Enter the current code from the trustgate app.")
	}
	g.attemptSucceeded(ctx, lockKey)
	return g.finish(w, r, verification{
		Identity: p.Identity, Factor: factorPasscode, Reason: reasonValidPasscode, Return: f.Return,
		Status: policy.NotTrusted, Failed: []policy.Finding{device.NotVerifiedFinding()}, Integration: integrationMobile,
	})
}

// submitPush sends a login request to the person's activated devices, with
// a number to type there (number matching).
func (g *Gate) submitPush(w http.ResponseWriter, r *http.Request) error {
	f, err := g.postedPendingForm(w, r)
	if f == nil {
		return err
	}
	p := f.Pending
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	devices, err := g.activeDevices(ctx, p.User)
	if err != nil {
		return g.errStoreUnavailable(r, "reading devices", err)
	}
	if len(devices) == 0 {
		return g.showPrompt(w, r, f, http.StatusBadRequest, "You have no activated device to send a request to.")
	}
	d := g.cfg.Device
	allowed, err := g.devices.AllowPush(ctx, p.User)
	if err != nil {
		return g.errStoreUnavailable(r, "counting login requests", err)
	}
	if !allowed {
		return g.showPrompt(w, r, f, http.StatusTooManyRequests, "Too many login requests were sent. Please wait a few minutes, or use a passcode.")
	}
	number := device.MatchNumber()
	now := g.cfg.Now()
	// Each device gets its own copy of the request; the transaction names
	// them all, so that the first answer withdraws the others.
	pushIDs := make([]string, len(devices))
	for i := range devices {
		pushIDs[i] = secret.Token()
	}
	tx, err := g.newTransaction(ctx, r, p, f.Return, device.KindPush, store.TransactionReported, device.Record{
		NumberHash: secret.Hash(number), PushExpires: now.Add(d.PushTimeout), PushIDs: pushIDs,
	})
	if err != nil {
		return g.errStoreUnavailable(r, "starting login request", err)
	}
	for i, dev := range devices {
		push := protocol.Push{
			ID: pushIDs[i], Application: g.application(r), User: p.User,
			AccessDevice: device.AccessDescription(tx.Rec.Access), IP: tx.Rec.IP,
			Time: now.UTC(), Expires: tx.Rec.PushExpires.UTC(), NumberMatching: true,
		}
		if err := g.devices.SendPush(ctx, dev.ID, tx.ID, push); err != nil {
			return g.errStoreUnavailable(r, "sending login request", err)
		}
	}
	p.PushTx, p.Number = tx.ID, number
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	web.NoStore(w)
	http.Redirect(w, r, pathVerify, http.StatusSeeOther)
	return nil
}

// submitSkip lets a person without an activated app in, in mode check,
// recording that the device was not checked.
func (g *Gate) submitSkip(w http.ResponseWriter, r *http.Request) error {
	f, err := g.postedPendingForm(w, r)
	if f == nil {
		return err
	}
	p := f.Pending
	devices, err := g.activeDevices(r.Context(), p.User)
	if err != nil {
		return g.errStoreUnavailable(r, "reading devices", err)
	}
	if len(devices) > 0 || g.cfg.Device.Policy.Mode != policy.ModeCheck {
		return g.showPrompt(w, r, f, http.StatusForbidden, "Use the trustgate app to continue.")
	}
	return g.finish(w, r, verification{
		Identity: p.Identity, Factor: p.Factor, Reason: primaryReason(p.Factor), Return: f.Return,
		Status: policy.NotTrusted, Integration: integrationMobile,
		Failed: []policy.Finding{{Requirement: "device_check", Reason: reasonNoActivatedApp,
			Hint: "Activate the trustgate app on your phone to check your device."}},
	})
}

// postedPendingForm reads a posted prompt form and checks its CSRF token
// against the flow cookie. Without a flow the request is answered: by the
// error returned, or (nil, nil) by the prompt shown again.
func (g *Gate) postedPendingForm(w http.ResponseWriter, r *http.Request) (*flow, error) {
	if r.Method != http.MethodPost {
		return nil, errMethod(w, http.MethodPost, pathVerify)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, pageErr(http.StatusRequestEntityTooLarge, "Form not read", "The form could not be read. Please try again.", pathVerify)
	}
	f, err := g.pendingFlow(r)
	if err != nil {
		return nil, err
	}
	if !secret.Equal(r.PostForm.Get("csrf"), f.CSRF) {
		return nil, g.showPrompt(w, r, f, http.StatusForbidden, "Your form expired. Please try again.")
	}
	return f, nil
}
