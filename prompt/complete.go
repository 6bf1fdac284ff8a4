package prompt

import (
	"context"
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// serveComplete finishes a check that may complete without the return
// link (a push to another device, or an unbound site), and shows denials.
func (g *Gate) serveComplete(w http.ResponseWriter, r *http.Request) error {
	f, err := g.pendingFlow(r)
	if err != nil {
		return err
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
		return nil
	}
	switch {
	case tx.State == store.TransactionDenied:
		g.showDenial(w, r, tx)
	case tx.State == store.TransactionApproved && (tx.Rec.Kind == device.KindPush || g.cfg.Device.Unbound):
		return g.completeTransaction(w, r, f, tx, tx.Rec.Kind == device.KindInline)
	default:
		http.Redirect(w, r, pathVerify, http.StatusSeeOther)
	}
	return nil
}

// serveReturn is the return link the app opens in the phone's browser after
// approving an inline check: only the browser that started the check holds
// the flow cookie that completes it.
func (g *Gate) serveReturn(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	txID, code := q.Get(protocol.ParamTransaction), q.Get(protocol.ParamCode)
	f := g.readFlow(r)
	if f == nil || f.Pending == nil || g.cfg.Device == nil || f.Pending.Tx == "" || !secret.Equal(f.Pending.Tx, txID) {
		if s := g.readSession(r); s != nil && g.cfg.Device != nil {
			// Opened again after it signed this browser in (the app, or
			// the person, followed it twice).
			g.renderSignedIn(w, r, s, txID)
			return nil
		}
		g.cfg.Logger.Warn("return link opened without its browser", zap.String("ip", g.cfg.ClientIP(r)))
		return pageErr(http.StatusForbidden, "Open in your browser",
			"Finish signing in in the browser where you started: this link only works there.", "")
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	tx, err := g.ownTransaction(ctx, f.Pending, txID)
	if err == nil && g.reopenedAfterCompleting(tx, code) {
		// This browser completed the check, but its answer never arrived:
		// the instance died between the commit and the answer, or the
		// connection dropped. The login is recorded; give the browser
		// its session (finish skips the commit, see completeAndRecord).
		g.cfg.Logger.Info("return link opened again after completing; resuming the login",
			zap.String("user", tx.User), zap.String("transaction", tx.ID))
		return g.completeTransaction(w, r, f, tx, false)
	}
	if err != nil || tx.State != store.TransactionApproved || !secret.Equal(secret.Hash(code), tx.Rec.ReturnHash) {
		if err == nil && tx.State == store.TransactionDenied {
			g.showDenial(w, r, tx)
			return nil
		}
		return pageErr(http.StatusForbidden, "Link not valid",
			"This sign-in link is not valid any more. Please start again.", pathVerify)
	}
	return g.completeTransaction(w, r, f, tx, false)
}

// reopenedAfterCompleting reports whether tx, loaded for the browser that
// started it (ownTransaction), was completed already, its link is still
// within its lifetime and code is its return code: the same browser opens
// the same return link again.
func (g *Gate) reopenedAfterCompleting(tx *device.Transaction, code string) bool {
	return tx.State == store.TransactionCompleted && tx.Rec.Kind == device.KindInline &&
		g.cfg.Now().Before(tx.Expires) && tx.Rec.ReturnHash != "" &&
		secret.Equal(secret.Hash(code), tx.Rec.ReturnHash)
}

// renderSignedIn tells a signed-in person that the return link they opened
// again has done its work, with a link to where they were going.
func (g *Gate) renderSignedIn(w http.ResponseWriter, r *http.Request, s *session.Session, txID string) {
	next := "/"
	if txID != "" {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if tx, err := g.loadTransaction(ctx, txID); err == nil && tx.User == s.User {
			next = SafeReturn(tx.Rec.Return)
		}
	}
	web.NoStore(w)
	g.pages.SignedIn(w, r, s.User, next)
}

// completeTransaction uses an approved transaction once and finishes the
// login it proves: finish moves it to completed (completeAndRecord).
func (g *Gate) completeTransaction(w http.ResponseWriter, r *http.Request, f *flow, tx *device.Transaction, unbound bool) error {
	v := verification{
		Identity: tx.Rec.Identity, Return: tx.Rec.Return, DeviceID: tx.DeviceID, tx: tx, complete: true,
		Reason: reasonUserApproved, Integration: integrationMobile,
	}
	switch tx.Rec.Kind {
	case device.KindInline:
		v.Factor, v.Facts, v.Unbound = factorMobileInline, tx.Rec.Facts, unbound
		if vd := tx.Rec.Verdict; vd != nil && tx.Rec.PolicyHash == g.policyHash {
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
		v.Failed = []policy.Finding{device.NotVerifiedFinding()}
	}
	return g.finish(w, r, v)
}

// completeAndRecord uses the approved transaction tx up (approved to
// completed) and records entry, the login it proves, in one commit where
// the store can (store.InOneCommit): the person waits for one commit, not
// two, and a login is never recorded without its transaction used up. It
// reports false when the login must not go on, with the error that
// answers it (nil: the client went away): the transaction was used already
// or could not be used, or the record could not be written and the fail
// mode does not let the login through.
func (g *Gate) completeAndRecord(r *http.Request, tx *device.Transaction, entry store.AuthLogEntry) (bool, error) {
	// Detached from the request, as in record: a client that hangs up
	// must not cancel the write of its own login record.
	if tx.State == store.TransactionCompleted {
		// The same browser opened the return link again after the
		// transaction was used up and its login recorded
		// (reopenedAfterCompleting): nothing is written again.
		return true, nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	entry = g.completeEntry(r, entry)
	var (
		recorded store.AuthLogEntry
		recErr   error
	)
	err := store.InOneCommit(ctx, g.cfg.Store, func(ctx context.Context) error {
		if err := g.transition(ctx, tx, store.TransactionApproved, store.TransactionCompleted, ""); err != nil {
			return err // nothing written yet
		}
		// A failed record leaves the transaction used up, as when the
		// two are written one after the other.
		recorded, recErr = g.appendAuthLog(ctx, entry)
		return nil
	})
	if err != nil {
		// The transaction was not used up (and nothing was recorded).
		if errors.Is(err, store.ErrConflict) {
			return false, pageErr(http.StatusConflict, "Already used", "This sign-in was already completed.", pathVerify)
		}
		return false, g.errStoreUnavailable(r, "completing device check", err)
	}
	// The transaction is used up, whatever happened to the record.
	g.verificationFinished(tx, entry.Result)
	if recErr != nil {
		if !g.degrade(r, "recording login", recErr) {
			return false, g.errUnavailable(r, "recording login", recErr)
		}
		return true, nil
	}
	g.loginRecorded(recorded)
	return true, nil
}

// showDenial shows why a transaction was denied.
func (g *Gate) showDenial(w http.ResponseWriter, r *http.Request, tx *device.Transaction) {
	g.clearFlow(w, r)
	switch tx.Rec.Reason {
	case protocol.DenyCancelled, protocol.DenyFraud:
		g.renderMessage(w, r, http.StatusForbidden, "Sign-in denied", "The sign-in was denied in the trustgate app.", ReservedPrefix+"login")
	case reasonWrongNumber:
		g.renderMessage(w, r, http.StatusForbidden, "Sign-in denied", "The number typed in the app did not match. The sign-in was denied.", ReservedPrefix+"login")
	default:
		var failed, warnings []policy.Finding
		if tx.Rec.Verdict != nil {
			failed, warnings = tx.Rec.Verdict.Failed, tx.Rec.Verdict.Warnings
		}
		g.renderDenied(w, r, integrationMobile, failed, warnings)
	}
}
