package device

import (
	"context"
	"errors"
	"net/url"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// Answer is a device's answer to a login request: the push state it asks
// for (store.PushApproved or store.PushDenied), the reason of a denial and
// the number the person typed.
type Answer struct {
	State, Reason, Number string
}

// ParseAnswer reads an answer request.
func ParseAnswer(req protocol.AnswerRequest) (Answer, error) {
	switch req.Answer {
	case protocol.AnswerApprove:
		if req.Reason != "" {
			// A reason says why the person denied; with an approval it
			// would be recorded nowhere, so the app has it wrong.
			return Answer{}, BadRequest("reason goes only with deny")
		}
		return Answer{State: store.PushApproved, Number: req.Number}, nil
	case protocol.AnswerDeny:
		a := Answer{State: store.PushDenied, Reason: protocol.DenyCancelled, Number: req.Number}
		if req.Reason == protocol.DenyFraud {
			a.Reason = protocol.DenyFraud
		} else if req.Reason != "" && req.Reason != protocol.DenyCancelled {
			return Answer{}, BadRequest("reason must be user_cancelled or user_marked_fraud")
		}
		return a, nil
	}
	return Answer{}, BadRequest("answer must be approve or deny")
}

// AnswerPush takes device d's answer a to its login request pushID: the
// first answer settles it, withdrawing the copies on the person's other
// devices, and moves its transaction. An approval of an inline check
// carries the return link to the browser that started it.
func (s *Service) AnswerPush(ctx context.Context, c Caller, d *store.Device, pushID string, a Answer) (protocol.AnswerResponse, error) {
	push, err := s.st.Push(ctx, pushID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && push.DeviceID != d.ID) {
		return protocol.AnswerResponse{}, refuse(CodeNotFound, "no such login request for this device")
	}
	if err != nil {
		return protocol.AnswerResponse{}, s.unavailable("reading login request", err)
	}
	tx, err := s.Transaction(ctx, push.TransactionID)
	if err != nil {
		return protocol.AnswerResponse{}, s.unavailable("loading transaction", err)
	}
	if tx.User != d.User || !InRealm(d, s.txRealm(tx)) {
		// Requests go only to the devices of the transaction's person and
		// realm; one of another reached this device only by a fault.
		s.log.Warn("device of another person or realm answered a login request",
			zap.String("device_id", d.ID), zap.String("user", d.User),
			zap.String("device_realm", s.realmName(d.Realm)), zap.String("transaction_realm", s.realmName(s.txRealm(tx))))
		return protocol.AnswerResponse{}, refuse(CodeNotFound, "no such login request for this device")
	}
	if tx.Rec.Kind == KindEnroll {
		return s.answerEnrollment(ctx, d, push, tx, a)
	}
	if a.State == store.PushApproved && tx.Rec.NumberHash != "" && !secret.Equal(secret.Hash(a.Number), tx.Rec.NumberHash) {
		a.State, a.Reason = store.PushDenied, ReasonWrongNumber
	}
	return s.answerLogin(ctx, c, d, push, tx, a)
}

// answerLogin takes the answer a of d to push, a copy of the login request
// of tx, once it is known to be d's to give.
func (s *Service) answerLogin(ctx context.Context, c Caller, d *store.Device, push store.Push, tx *Transaction, a Answer) (protocol.AnswerResponse, error) {
	var returnCode string
	if a.State == store.PushApproved && tx.Rec.Kind == KindInline {
		returnCode = secret.Token()
		tx.Rec.ReturnHash = secret.Hash(returnCode)
		tx.Rec.ReturnSealed = s.sealReturnCode(returnCode)
	}
	moved, moveErr, answerErr, err := s.commitAnswer(ctx, d, push, tx, a)
	if err != nil {
		return protocol.AnswerResponse{}, s.unavailable("answering login request", err)
	}
	if answerErr != nil {
		resp, done, err := s.answeredBefore(ctx, c, d, push, tx, a, answerErr)
		if done {
			return resp, err
		}
	} else {
		s.hooks.PushAnswered(a.State, a.Reason)
	}
	if a.State == store.PushDenied {
		return s.denyLogin(ctx, c, d, tx, a)
	}
	if !moved {
		moveErr = s.Transition(ctx, tx, store.TransactionReported, store.TransactionApproved, d.ID)
	}
	if moveErr != nil {
		return protocol.AnswerResponse{}, s.transitionFailed("approving transaction", moveErr)
	}
	resp := protocol.AnswerResponse{State: a.State}
	if returnCode != "" {
		resp.ReturnURL = returnURL(c.Origin, tx.ID, returnCode)
	}
	return resp, nil
}

// commitAnswer stores the answer a to push and, for an approval, moves tx
// (reported to approved), in one commit where the store can
// (store.InOneCommit); each succeeds or fails as if written one after the
// other. moved says the move was tried, with moveErr its failure;
// answerErr is the answer's; err the commit's.
func (s *Service) commitAnswer(ctx context.Context, d *store.Device, push store.Push, tx *Transaction, a Answer) (moved bool, moveErr, answerErr, err error) {
	var withdrawErr error
	err = s.cfg.InOneCommit(ctx, func(ctx context.Context) error {
		if _, answerErr = s.st.AnswerPush(ctx, push.ID, d.ID, a.State, a.Reason, s.now()); answerErr != nil {
			return nil
		}
		// The first answer settles the login request: the copies on the
		// person's other devices are withdrawn.
		if withdrawErr = s.withdrawOtherPushes(ctx, tx, push.ID); withdrawErr != nil || a.State != store.PushApproved {
			return nil
		}
		moved, moveErr = true, s.Transition(ctx, tx, store.TransactionReported, store.TransactionApproved, d.ID)
		return nil
	})
	if err == nil && withdrawErr != nil {
		// The answer stands; the other copies lapse on their own.
		s.log.Warn("withdrawing a login request from the other devices", zap.Error(withdrawErr))
	}
	return moved, moveErr, answerErr, err
}

// answeredBefore handles an answer the store refused (answerErr). done
// says resp and err are the answer to give; otherwise the approval is
// taken up again where it stopped.
func (s *Service) answeredBefore(ctx context.Context, c Caller, d *store.Device, push store.Push, tx *Transaction, a Answer, answerErr error) (resp protocol.AnswerResponse, done bool, err error) {
	conflict := errors.Is(answerErr, store.ErrConflict)
	approval := conflict && a.State == store.PushApproved
	switch {
	case conflict && !s.now().Before(push.Expires):
		s.hooks.PushExpired()
		return resp, true, refuse(CodeExpired, "the login request has expired")
	case approval && s.approvedBefore(ctx, push.ID, d.ID) && tx.State == store.TransactionReported:
		// The device's approval was stored but the transaction did not
		// move (the gateway was killed in between on a store without
		// one commit, or the move failed): approving again finishes
		// that approval. No return link was given for it yet.
		if err := s.withdrawOtherPushes(ctx, tx, push.ID); err != nil {
			s.log.Warn("withdrawing a login request from the other devices", zap.Error(err))
		}
		return resp, false, nil
	case approval && s.approvedBefore(ctx, push.ID, d.ID) && tx.State == store.TransactionApproved:
		// The device approved before and the approval took effect, but
		// the answer may never have reached it (the gateway was killed,
		// the network dropped it): it gets the same answer again, with
		// the same return link, never a second one.
		resp, err = s.repeatApproval(ctx, c, tx.ID)
		return resp, true, err
	case conflict:
		return resp, true, s.alreadyAnswered(ctx, push.ID)
	}
	return resp, true, s.unavailable("answering login request", answerErr)
}

// denyLogin moves tx, whose login request d denied, to denied and records
// the denial.
func (s *Service) denyLogin(ctx context.Context, c Caller, d *store.Device, tx *Transaction, a Answer) (protocol.AnswerResponse, error) {
	tx.Rec.Reason = a.Reason
	if err := s.Transition(ctx, tx, store.TransactionReported, store.TransactionDenied, d.ID); err != nil {
		return protocol.AnswerResponse{}, s.transitionFailed("denying transaction", err)
	}
	_ = s.hooks.RecordTx(ctx, c, tx, d, store.ResultDenied, a.Reason, tx.Factor())
	if a.Reason == ReasonWrongNumber {
		return protocol.AnswerResponse{}, refuse(CodeWrongNumber, "the number does not match the one in the browser; the login was denied")
	}
	return protocol.AnswerResponse{State: a.State}, nil
}

// returnURL is the return link of the inline transaction txID on origin.
func returnURL(origin, txID, code string) string {
	return origin + protocol.ReturnPath + "?" + url.Values{
		protocol.ParamTransaction: {txID}, protocol.ParamCode: {code},
	}.Encode()
}

// sealReturnCode seals an inline approval's return code (Config.Seal), so
// that a repeated approval can answer with the same link while the store
// holds no usable code. It returns "" when it cannot; a repeated approval
// then gets already_answered.
func (s *Service) sealReturnCode(code string) string {
	if s.cfg.Seal == nil {
		return ""
	}
	sealed, err := s.cfg.Seal(code)
	if err != nil {
		s.log.Warn("sealing a return code", zap.Error(err))
		return ""
	}
	return sealed
}

// repeatApproval answers an approval of a login request the same device
// approved before, whose transaction txID is approved, with the first
// answer: the same return link for an inline check. When that link cannot
// be had again (its seal does not open any more), it answers
// already_answered instead of making a second one. It reads the
// transaction again: the caller's copy holds the return code it made for
// this request, which was never stored.
func (s *Service) repeatApproval(ctx context.Context, c Caller, txID string) (protocol.AnswerResponse, error) {
	tx, err := s.Transaction(ctx, txID)
	if err != nil {
		return protocol.AnswerResponse{}, s.unavailable("loading transaction", err)
	}
	if tx.State != store.TransactionApproved {
		return protocol.AnswerResponse{}, refuse(CodeAlreadyAnswered, "the login request was already answered")
	}
	resp := protocol.AnswerResponse{State: store.PushApproved}
	if tx.Rec.Kind == KindInline {
		code, ok := s.openReturnCode(tx.Rec.ReturnSealed)
		if !ok || !secret.Equal(secret.Hash(code), tx.Rec.ReturnHash) {
			return protocol.AnswerResponse{}, refuse(CodeAlreadyAnswered, "the login request was already approved")
		}
		resp.ReturnURL = returnURL(c.Origin, tx.ID, code)
	}
	return resp, nil
}

// openReturnCode opens a sealed return code.
func (s *Service) openReturnCode(sealed string) (string, bool) {
	if sealed == "" || s.cfg.Open == nil {
		return "", false
	}
	code, err := s.cfg.Open(sealed)
	return code, err == nil
}

// approvedBefore reports whether the push pushID was approved by
// deviceID. The caller tells, by the state of its transaction, whether the
// approval still has to take effect (reported) or was answered (approved).
func (s *Service) approvedBefore(ctx context.Context, pushID, deviceID string) bool {
	p, err := s.st.Push(ctx, pushID)
	return err == nil && p.DeviceID == deviceID && p.State == store.PushApproved
}
