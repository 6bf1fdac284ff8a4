package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"

	"crypto/rand"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// PendingDevice is a device activated under enrollment approve, kept in its
// enrollment transaction until one of the person's active devices approves
// it. Until then the store has no such device, so it can neither report,
// nor answer pushes, nor vouch for anything.
type PendingDevice struct {
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

// MatchNumber returns a two-digit number for number matching.
func MatchNumber() string {
	n, err := rand.Int(rand.Reader, big.NewInt(90))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%02d", n.Int64()+10)
}

// startEnrollment keeps d pending and asks every active device of its user
// to approve it, with the number it answers the new device (resp).
func (s *Service) startEnrollment(ctx context.Context, c Caller, d store.Device, resp protocol.ActivateResponse) (protocol.ActivateResponse, error) {
	switch _, err := s.st.Device(ctx, d.ID); {
	case err == nil:
		return protocol.ActivateResponse{}, refuse(CodeConflict, "this device key is already activated")
	case !errors.Is(err, store.ErrNotFound):
		return protocol.ActivateResponse{}, s.unavailable("reading device", err)
	}
	devices, err := s.ActiveDevices(ctx, d.User, s.codeRealm(d.Realm))
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("reading devices", err)
	}
	// Approval requests share the login requests' budget, against push
	// fatigue.
	allowed, err := s.AllowPush(ctx, d.User)
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("counting login requests", err)
	}
	if !allowed {
		return protocol.ActivateResponse{}, refuse(CodeTooManyRequests, "too many requests were sent to this person's devices; try again later")
	}
	number := MatchNumber()
	rec, pushes := s.enrollmentRequests(c, d, devices, number)
	data, err := json.Marshal(rec)
	if err != nil {
		return protocol.ActivateResponse{}, s.unavailable("encoding enrollment", err)
	}
	now := s.now()
	tx := store.Transaction{
		ID: secret.Token(), User: d.User, State: store.TransactionReported, Data: data,
		Created: now, Expires: rec.PushExpires, Updated: now,
	}
	if err := s.st.CreateTransaction(ctx, tx); err != nil {
		return protocol.ActivateResponse{}, s.unavailable("storing enrollment", err)
	}
	for i, dev := range devices {
		if err := s.SendPush(ctx, dev.ID, tx.ID, pushes[i]); err != nil {
			return protocol.ActivateResponse{}, s.unavailable("sending approval request", err)
		}
	}
	s.log.Info("new device waits for approval", zap.String("user", d.User),
		zap.String("device_id", d.ID), zap.String("platform", d.Platform), zap.Int("approvers", len(devices)))
	resp.Approval = &protocol.Approval{Number: number, Expires: rec.PushExpires.UTC()}
	return resp, nil
}

// enrollmentRequests returns the record of the enrollment transaction of
// the new device d and the approval requests to send to devices.
func (s *Service) enrollmentRequests(c Caller, d store.Device, devices []store.Device, number string) (Record, []protocol.Push) {
	now := s.now()
	rec := Record{
		Kind:        KindEnroll,
		NumberHash:  secret.Hash(number),
		IP:          c.IP,
		UserAgent:   c.UserAgent,
		PushExpires: now.Add(s.cfg.ActivationTTL),
		// Only devices of this realm were asked, and only they may answer.
		Realm: s.codeRealm(d.Realm),
		Enroll: &PendingDevice{
			ID: d.ID, PublicKey: d.PublicKey, Platform: d.Platform, Model: d.Model,
			OSVersion: d.OSVersion, AppVersion: d.AppVersion, PasscodeSecret: d.PasscodeSecret,
			Realm: d.Realm,
		},
	}
	pushes := make([]protocol.Push, len(devices))
	for i := range devices {
		pushes[i] = protocol.Push{
			ID: secret.Token(), Application: c.Application, User: d.User,
			AccessDevice: newDeviceDescription(d), IP: rec.IP,
			Time: now.UTC(), Expires: rec.PushExpires.UTC(), NumberMatching: true,
			Kind: protocol.PushKindEnrollment,
			NewDevice: &protocol.NewDevice{
				Platform: d.Platform, Model: d.Model, OSVersion: d.OSVersion, AppVersion: d.AppVersion,
			},
		}
		rec.PushIDs = append(rec.PushIDs, pushes[i].ID)
	}
	return rec, pushes
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
func (s *Service) answerEnrollment(ctx context.Context, approver *store.Device, push store.Push, tx *Transaction, a Answer) (protocol.AnswerResponse, error) {
	if tx.Rec.Enroll == nil {
		return protocol.AnswerResponse{}, s.unavailable("loading enrollment", errors.New("enrollment transaction without a device"))
	}
	if a.State == store.PushApproved && !secret.Equal(secret.Hash(a.Number), tx.Rec.NumberHash) {
		a.State, a.Reason = store.PushDenied, ReasonWrongNumber
	}
	to := store.TransactionApproved
	if a.State == store.PushDenied {
		to, tx.Rec.Reason = store.TransactionDenied, a.Reason
	}
	now := s.now()
	p := tx.Rec.Enroll
	d := store.Device{
		ID: p.ID, User: tx.User, Realm: p.Realm, PublicKey: p.PublicKey, Platform: p.Platform, Model: p.Model,
		OSVersion: p.OSVersion, AppVersion: p.AppVersion, PasscodeSecret: p.PasscodeSecret,
		Created: now, LastSeen: now,
	}
	if err := s.commitEnrollment(ctx, approver, push, tx, a, to, d); err != nil {
		return protocol.AnswerResponse{}, err
	}
	log := s.log.With(zap.String("user", tx.User), zap.String("device_id", d.ID), zap.String("approver", approver.ID))
	if a.State == store.PushDenied {
		log.Info("new device refused", zap.String("reason", a.Reason))
		if a.Reason == ReasonWrongNumber {
			return protocol.AnswerResponse{}, refuse(CodeWrongNumber, "the number does not match the one the new device shows; the new device was refused")
		}
		return protocol.AnswerResponse{State: a.State}, nil
	}
	log.Info("device activated", zap.String("platform", d.Platform), zap.String("enrollment", string(EnrollApprove)))
	return protocol.AnswerResponse{State: a.State}, nil
}

// commitEnrollment stores approver's answer a to push, moves the
// enrollment tx to to, withdraws the other copies and, on approval,
// creates the new device d, in one commit where the store can.
func (s *Service) commitEnrollment(ctx context.Context, approver *store.Device, push store.Push, tx *Transaction, a Answer, to string, d store.Device) error {
	now := s.now()
	var answerErr, moveErr, createErr error
	err := s.cfg.InOneCommit(ctx, func(ctx context.Context) error {
		if _, answerErr = s.st.AnswerPush(ctx, push.ID, approver.ID, a.State, a.Reason, now); answerErr != nil {
			return nil
		}
		if moveErr = s.Transition(ctx, tx, store.TransactionReported, to, approver.ID); moveErr != nil {
			return nil
		}
		// The first answer settles it: the copies on the person's other
		// devices are withdrawn, as for a login request.
		if err := s.withdrawOtherPushes(ctx, tx, push.ID); err != nil {
			return err
		}
		if to == store.TransactionApproved {
			createErr = s.st.CreateDevice(ctx, d)
		}
		return nil
	})
	switch {
	case err != nil:
		return s.unavailable("answering approval request", err)
	case errors.Is(answerErr, store.ErrConflict) && !now.Before(push.Expires):
		return refuse(CodeExpired, "the approval request has expired")
	case errors.Is(answerErr, store.ErrConflict):
		return s.alreadyAnswered(ctx, push.ID)
	case answerErr != nil:
		return s.unavailable("answering approval request", answerErr)
	case moveErr != nil:
		// Another device answered first, or the request lapsed.
		return s.transitionFailed("answering approval request", moveErr)
	case errors.Is(createErr, store.ErrConflict):
		return refuse(CodeConflict, "the new device is already activated")
	case createErr != nil:
		return s.unavailable("storing approved device", createErr)
	}
	return nil
}
