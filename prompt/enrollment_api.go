package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// pendingDevice is a device activated under enrollment approve, kept in its
// enrollment transaction until one of the person's active devices approves
// it. Until then the store has no such device, so it can neither report,
// nor answer pushes, nor vouch for anything.
type pendingDevice struct {
	ID             string          `json:"id"`
	PublicKey      json.RawMessage `json:"key"`
	Platform       string          `json:"platform"`
	Model          string          `json:"model,omitempty"`
	OSVersion      string          `json:"os,omitempty"`
	AppVersion     string          `json:"app,omitempty"`
	PasscodeSecret string          `json:"passcode"`
	// Realm is the realm the device will be bound to: its code's.
	Realm string `json:"realm,omitempty"`
}

// admitActivation decides whether a consumed activation code may activate
// a device for user under the site's enrollment choice. A code the prompt
// issued counts only under the choice it was issued for: a site that has
// moved to admin refuses the codes its prompt handed out before. pending
// says the device waits for approval. It writes the refusal and reports
// ok false.
func (g *Gate) admitActivation(w http.ResponseWriter, r *http.Request, code string, act store.Activation) (pending, ok bool) {
	user := act.User
	source := device.CodeSource(code)
	if source == EnrollAdmin {
		return false, true
	}
	if source != g.cfg.Device.Enrollment {
		g.cfg.Logger.Warn("activation code from the prompt refused: the site's enrollment changed",
			zap.String("user", user), zap.String("code_from", string(source)), zap.String("enrollment", string(g.cfg.Device.Enrollment)))
		deviceError(w, http.StatusForbidden, "enrollment_refused", "this site does not take activation codes from the sign-in page; ask an administrator for one")
		return false, false
	}
	// The person's devices are counted in the realm the code was issued
	// in: a device of another site's alice is not this alice's.
	devices, err := g.activeDevicesIn(r.Context(), user, g.codeRealm(act.Realm))
	if err != nil {
		g.apiUnavailable(w, "reading devices", err)
		return false, false
	}
	switch {
	case source == EnrollSelf && len(devices) > 0:
		// The person got the code while they had no device, and has one
		// now: a further device needs an administrator.
		deviceError(w, http.StatusForbidden, "enrollment_refused", "you already have an activated device; ask an administrator to add another")
		return false, false
	case source == EnrollApprove && len(devices) == 0:
		// Nobody is left to approve it.
		deviceError(w, http.StatusForbidden, "enrollment_refused", "you have no activated device to approve this one; ask an administrator")
		return false, false
	}
	return source == EnrollApprove, true
}

// startEnrollment keeps device pending and asks every active device of its
// user to approve it, with the number it answers the new device (resp).
func (g *Gate) startEnrollment(w http.ResponseWriter, r *http.Request, device store.Device, resp protocol.ActivateResponse) {
	ctx := r.Context()
	switch _, err := g.cfg.Store.Device(ctx, device.ID); {
	case err == nil:
		deviceError(w, http.StatusConflict, "conflict", "this device key is already activated")
		return
	case !errors.Is(err, store.ErrNotFound):
		g.apiUnavailable(w, "reading device", err)
		return
	}
	devices, err := g.activeDevicesIn(ctx, device.User, g.codeRealm(device.Realm))
	if err != nil {
		g.apiUnavailable(w, "reading devices", err)
		return
	}
	d := g.cfg.Device
	// Approval requests share the login requests' budget, against push
	// fatigue.
	allowed, err := g.countUse(ctx, "push:"+device.User, d.PushLimit, d.PushWindow)
	if err != nil {
		g.apiUnavailable(w, "counting login requests", err)
		return
	}
	if !allowed {
		deviceError(w, http.StatusTooManyRequests, "too_many_requests", "too many requests were sent to this person's devices; try again later")
		return
	}
	now := g.cfg.Now()
	number := matchNumber()
	rec := txRecord{
		Kind:        txEnroll,
		NumberHash:  secret.Hash(number),
		IP:          g.cfg.ClientIP(r),
		UserAgent:   truncate(r.UserAgent(), maxUserAgent),
		PushExpires: now.Add(d.ActivationTTL),
		// Only devices of this realm were asked, and only they may answer.
		Realm: g.codeRealm(device.Realm),
		Enroll: &pendingDevice{
			ID: device.ID, PublicKey: device.PublicKey, Platform: device.Platform, Model: device.Model,
			OSVersion: device.OSVersion, AppVersion: device.AppVersion, PasscodeSecret: device.PasscodeSecret,
			Realm: device.Realm,
		},
	}
	pushes := make([]protocol.Push, len(devices))
	for i := range devices {
		pushes[i] = protocol.Push{
			ID: secret.Token(), Application: g.application(r), User: device.User,
			AccessDevice: newDeviceDescription(device), IP: rec.IP,
			Time: now.UTC(), Expires: rec.PushExpires.UTC(), NumberMatching: true,
			Kind: protocol.PushKindEnrollment,
			NewDevice: &protocol.NewDevice{
				Platform: device.Platform, Model: device.Model, OSVersion: device.OSVersion, AppVersion: device.AppVersion,
			},
		}
		rec.PushIDs = append(rec.PushIDs, pushes[i].ID)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		g.apiUnavailable(w, "encoding enrollment", err)
		return
	}
	tx := store.Transaction{
		ID: secret.Token(), User: device.User, State: store.TransactionReported, Data: data,
		Created: now, Expires: rec.PushExpires, Updated: now,
	}
	if err := g.cfg.Store.CreateTransaction(ctx, tx); err != nil {
		g.apiUnavailable(w, "storing enrollment", err)
		return
	}
	for i, dev := range devices {
		if err := g.sendPush(ctx, dev.ID, tx.ID, pushes[i]); err != nil {
			g.apiUnavailable(w, "sending approval request", err)
			return
		}
	}
	g.cfg.Logger.Info("new device waits for approval", zap.String("user", device.User),
		zap.String("device_id", device.ID), zap.String("platform", device.Platform), zap.Int("approvers", len(devices)))
	resp.Approval = &protocol.Approval{Number: number, Expires: rec.PushExpires.UTC()}
	web.WriteJSON(w, http.StatusAccepted, resp)
}

// newDeviceDescription describes a new device for the approval request,
// e.g. "Pixel 8 (android 14)".
func newDeviceDescription(d store.Device) string {
	name := d.Model
	if name == "" {
		name = "A new device"
	}
	if d.OSVersion != "" {
		return name + " (" + d.Platform + " " + d.OSVersion + ")"
	}
	return name + " (" + d.Platform + ")"
}

// answerEnrollment takes an active device's answer to an enrollment push:
// approved with the number the new device shows, the new device is
// created; denied, or approved with a wrong number, it is dropped.
func (g *Gate) answerEnrollment(w http.ResponseWriter, r *http.Request, approver *store.Device, push store.Push, tx *transaction, state, reason, number string) {
	ctx := r.Context()
	if tx.rec.Enroll == nil {
		g.apiUnavailable(w, "loading enrollment", errors.New("enrollment transaction without a device"))
		return
	}
	if state == store.PushApproved && !secret.Equal(secret.Hash(number), tx.rec.NumberHash) {
		state, reason = store.PushDenied, reasonWrongNumber
	}
	to := store.TransactionApproved
	if state == store.PushDenied {
		to, tx.rec.Reason = store.TransactionDenied, reason
	}
	now := g.cfg.Now()
	p := tx.rec.Enroll
	device := store.Device{
		ID: p.ID, User: tx.User, Realm: p.Realm, PublicKey: p.PublicKey, Platform: p.Platform, Model: p.Model,
		OSVersion: p.OSVersion, AppVersion: p.AppVersion, PasscodeSecret: p.PasscodeSecret,
		Created: now, LastSeen: now,
	}
	var answerErr, moveErr, createErr error
	err := store.InOneCommit(ctx, g.cfg.Store, func(ctx context.Context) error {
		if _, answerErr = g.cfg.Store.AnswerPush(ctx, push.ID, approver.ID, state, reason, now); answerErr != nil {
			return nil
		}
		if moveErr = g.transition(ctx, tx, store.TransactionReported, to, approver.ID); moveErr != nil {
			return nil
		}
		// The first answer settles it: the copies on the person's other
		// devices are withdrawn, as for a login request.
		if err := g.withdrawOtherPushes(ctx, tx, push.ID); err != nil {
			return err
		}
		if to == store.TransactionApproved {
			createErr = g.cfg.Store.CreateDevice(ctx, device)
		}
		return nil
	})
	switch {
	case err != nil:
		g.apiUnavailable(w, "answering approval request", err)
		return
	case errors.Is(answerErr, store.ErrConflict) && !now.Before(push.Expires):
		deviceError(w, http.StatusGone, "expired", "the approval request has expired")
		return
	case errors.Is(answerErr, store.ErrConflict):
		g.alreadyAnswered(ctx, w, push.ID)
		return
	case answerErr != nil:
		g.apiUnavailable(w, "answering approval request", answerErr)
		return
	case moveErr != nil:
		// Another device answered first, or the request lapsed.
		g.transitionFailed(w, "answering approval request", moveErr)
		return
	case errors.Is(createErr, store.ErrConflict):
		deviceError(w, http.StatusConflict, "conflict", "the new device is already activated")
		return
	case createErr != nil:
		g.apiUnavailable(w, "storing approved device", createErr)
		return
	}
	log := g.cfg.Logger.With(zap.String("user", tx.User), zap.String("device_id", device.ID), zap.String("approver", approver.ID))
	if state == store.PushDenied {
		log.Info("new device refused", zap.String("reason", reason))
		if reason == reasonWrongNumber {
			deviceError(w, http.StatusForbidden, "wrong_number", "the number does not match the one the new device shows; the new device was refused")
			return
		}
		web.WriteJSON(w, http.StatusOK, protocol.AnswerResponse{State: state})
		return
	}
	log.Info("device activated", zap.String("platform", device.Platform), zap.String("enrollment", string(EnrollApprove)))
	web.WriteJSON(w, http.StatusOK, protocol.AnswerResponse{State: state})
}
