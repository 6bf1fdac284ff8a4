package device

import (
	"context"
	"encoding/json"
	"errors"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// MaxFreeText caps the device's free-text fields (model, versions).
const MaxFreeText = 128

// CheckFacts refuses a health report whose free text is too long.
func CheckFacts(f policy.Facts) error {
	if len(f.Model) > MaxFreeText || len(f.OSVersion) > MaxFreeText || len(f.AppVersion) > MaxFreeText || len(f.SecurityPatch) > MaxFreeText {
		return BadRequest("a fact is too long")
	}
	return nil
}

// Report takes the health report facts of device d for the inline
// transaction txID, whose challenge it must carry, evaluates it and, unless
// policy refuses the login outright, sends d the login request to approve.
func (s *Service) Report(ctx context.Context, c Caller, d *store.Device, txID, challenge string, facts policy.Facts) (protocol.ReportResponse, error) {
	tx, err := s.Transaction(ctx, txID)
	if errors.Is(err, store.ErrNotFound) {
		return protocol.ReportResponse{}, refuse(CodeNotFound, "no such transaction")
	}
	if err != nil {
		return protocol.ReportResponse{}, s.unavailable("loading transaction", err)
	}
	now := s.now()
	if err := s.checkReport(tx, d, challenge); err != nil {
		return protocol.ReportResponse{}, err
	}
	pol := s.cfg.Policy
	verdict := policy.Evaluate(pol.Requirements, facts, now)
	outcome := policy.Decide(pol.Mode, verdict.Status(), verdict.Reasons())
	factsJSON, _ := json.Marshal(facts)
	tx.Rec.Facts = factsJSON
	tx.Rec.Verdict = &verdict
	tx.Rec.PolicyHash = s.cfg.PolicyHash
	recordHealth := func(ctx context.Context) {
		if err := s.st.RecordHealth(ctx, d.ID, factsJSON, string(verdict.Status()), now); err != nil {
			s.log.Warn("recording device health", zap.Error(err))
		}
	}
	resp := protocol.ReportResponse{
		Trusted:  verdict.Trusted,
		Failed:   protocolFindings(verdict.Failed),
		Warnings: protocolFindings(verdict.Warnings),
	}
	if !outcome.Allow {
		recordHealth(ctx)
		tx.Rec.Reason = string(outcome.Reason)
		if err := s.Transition(ctx, tx, store.TransactionPending, store.TransactionDenied, d.ID); err != nil {
			return protocol.ReportResponse{}, s.transitionFailed("denying transaction", err)
		}
		_ = s.hooks.RecordTx(ctx, c, tx, d, store.ResultDenied, string(outcome.Reason), FactorMobileInline)
		resp.State = store.TransactionDenied
		return resp, nil
	}
	push, err := s.reported(ctx, c, tx, d, recordHealth)
	if err != nil {
		return protocol.ReportResponse{}, err
	}
	resp.State = store.TransactionReported
	resp.Push = push
	return resp, nil
}

// checkReport refuses a report of d for tx that may not be taken.
func (s *Service) checkReport(tx *Transaction, d *store.Device, challenge string) error {
	switch {
	case tx.User != d.User:
		s.log.Warn("device reported for another user's transaction",
			zap.String("device_id", d.ID), zap.String("device_user", d.User), zap.String("transaction_user", tx.User))
		return refuse(CodeWrongUser, "this transaction belongs to another user")
	case !InRealm(d, s.txRealm(tx)):
		// Another site's person of the same name: refused like another
		// user's device.
		s.log.Warn("device of another realm reported for a transaction",
			zap.String("device_id", d.ID), zap.String("user", d.User),
			zap.String("device_realm", s.realmName(d.Realm)), zap.String("transaction_realm", s.realmName(s.txRealm(tx))))
		return refuse(CodeWrongUser, "this transaction belongs to another user")
	case tx.Rec.Kind != KindInline:
		return refuse(CodeConflict, "this transaction takes no health report")
	case !s.now().Before(tx.Expires):
		return refuse(CodeExpired, "the transaction has expired; start again in the browser")
	case !secret.Equal(secret.Hash(challenge), tx.Rec.ChallengeHash):
		return refuse(CodeWrongChallenge, "the challenge does not match the transaction")
	case tx.State != store.TransactionPending:
		return refuse(CodeConflict, "the transaction already has a report")
	}
	return nil
}

// reported records an allowed report of d for tx and sends d its inline
// login request, which it returns.
func (s *Service) reported(ctx context.Context, c Caller, tx *Transaction, d *store.Device, recordHealth func(context.Context)) (*protocol.Push, error) {
	now := s.now()
	push := protocol.Push{
		ID:           secret.Token(),
		Application:  c.Application,
		User:         tx.User,
		AccessDevice: AccessDescription(tx.Rec.Access),
		IP:           tx.Rec.IP,
		Time:         tx.Created.UTC(),
		Expires:      now.Add(s.cfg.PushTimeout).UTC(),
		Inline:       true,
	}
	tx.Rec.PushIDs = []string{push.ID}
	tx.Rec.PushExpires = push.Expires
	// The health record, the report and the login request share one
	// commit where the store can (store.InOneCommit); each succeeds or
	// fails as if written one after the other.
	var moveErr, pushErr error
	err := s.cfg.InOneCommit(ctx, func(ctx context.Context) error {
		recordHealth(ctx)
		if moveErr = s.Transition(ctx, tx, store.TransactionPending, store.TransactionReported, d.ID); moveErr != nil {
			return nil
		}
		pushErr = s.storePush(ctx, d.ID, tx.ID, push)
		return nil
	})
	switch {
	case err != nil:
		return nil, s.unavailable("recording report", err)
	case moveErr != nil:
		return nil, s.transitionFailed("recording report", moveErr)
	case pushErr != nil:
		return nil, s.unavailable("sending login request", pushErr)
	}
	// The inline request is in this answer and also listed by GET pushes,
	// so an app that lost the answer (it was closed, or restarted) still
	// finds it; its long-polls are woken for that.
	s.announcePush(ctx, d.ID)
	return &push, nil
}

func protocolFindings(fs []policy.Finding) []protocol.Finding {
	out := make([]protocol.Finding, 0, len(fs))
	for _, f := range fs {
		pf := protocol.Finding{Requirement: string(f.Requirement), Reason: string(f.Reason), Hint: f.Hint}
		if !f.Deadline.IsZero() {
			d := f.Deadline.UTC()
			pf.Deadline = &d
		}
		out = append(out, pf)
	}
	return out
}
