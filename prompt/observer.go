package prompt

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// Observer hears what a gate does, so that the embedding program can turn
// it into metrics. One Observer serves one gate; any label it adds (such as
// the application's name) is its own. Its methods are called on request
// paths, concurrently: they must be quick, must not block, and must not
// call back into the gate.
//
// Every string passed is a code from a small fixed set, never a user name,
// device ID or address; only the auth-log entry carries those, and an
// Observer must not turn them into metric labels.
type Observer interface {
	// LoginRecorded is called once an auth-log entry is durable; the
	// store therefore answered.
	LoginRecorded(e store.AuthLogEntry)

	// VerificationStarted is called when a device check (a verification
	// transaction, id) is stored; the store therefore answered. It lapses at expires unless
	// VerificationFinished is called for it first. A transaction may
	// finish on another instance sharing the store, or after a restart;
	// an Observer counting pending checks should let lapsed ones go.
	VerificationStarted(id string, expires time.Time)

	// VerificationFinished is called when transaction id ends: completed
	// or denied, with result success or denied, took after it was
	// created. It may come for a transaction that this process never saw
	// start.
	VerificationFinished(id string, took time.Duration, result string)

	// PushOutcome is called when a login request sent to the app ends:
	// approved, denied (user_cancelled), fraud (user_marked_fraud),
	// wrong_number (number matching failed), expired (answered too late)
	// or no_response (the waiting browser saw it lapse unanswered).
	PushOutcome(outcome string)

	// StoreFailed is called when a storage operation fails for another
	// reason than an answer (not found, conflict) or a client that went
	// away. op names the step, in snake_case: counting_login_attempts,
	// recording_login, loading_transaction, and so on.
	StoreFailed(op string)

	// FailModeActivated is called when a sign-in step finds storage
	// unreachable and mode (a FailMode: secure, safe or check) decides
	// what happens: secure refuses the sign-in, safe and check let it go
	// on. The gate stays degraded, as far as it knows, until the store
	// next answers: LoginRecorded or VerificationStarted.
	FailModeActivated(mode string)
}

// Outcomes of login requests, as passed to Observer.PushOutcome.
const (
	pushApproved    = "approved"
	pushDenied      = "denied"
	pushFraud       = "fraud"
	pushWrongNumber = "wrong_number"
	pushExpired     = "expired"
	pushNoResponse  = "no_response"
)

// nopObserver is the Observer of a gate configured without one.
type nopObserver struct{}

func (nopObserver) LoginRecorded(store.AuthLogEntry)                   {}
func (nopObserver) VerificationStarted(string, time.Time)              {}
func (nopObserver) VerificationFinished(string, time.Duration, string) {}
func (nopObserver) PushOutcome(string)                                 {}
func (nopObserver) StoreFailed(string)                                 {}
func (nopObserver) FailModeActivated(string)                           {}

// observer returns the gate's Observer, or one that does nothing.
func (g *Gate) observer() Observer {
	if o := g.cfg.Observer; o != nil {
		return o
	}
	return nopObserver{}
}

// verificationFinished tells the observer that tx ended with result.
func (g *Gate) verificationFinished(tx *device.Transaction, result string) {
	g.observer().VerificationFinished(tx.ID, g.cfg.Now().Sub(tx.Created), result)
}

// storeFailed tells the observer that storage failed while the gate was
// doing what ("counting login attempts"), unless err is an answer rather
// than a failure, or the client went away.
func (g *Gate) storeFailed(what string, err error) {
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict),
		errors.Is(err, context.Canceled):
		return
	}
	g.observer().StoreFailed(opCode(what))
}

// opCode turns a step's description into the code an Observer gets.
func opCode(what string) string {
	return strings.ReplaceAll(strings.ToLower(what), " ", "_")
}

// pushOutcome names the end of a login request answered with state and
// reason.
func pushOutcome(state, reason string) string {
	switch {
	case state == store.PushApproved:
		return pushApproved
	case reason == reasonWrongNumber:
		return pushWrongNumber
	case reason == protocol.DenyFraud:
		return pushFraud
	}
	return pushDenied
}
