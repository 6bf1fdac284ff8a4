package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// The races here complement the compare-and-set races in shared.go
// (UseOnce, ConsumeActivation, TransitionTransaction and AnswerPush of one
// record by many callers): they race writes that a backend may implement
// as an insert that must not overwrite, as a transition with rival
// targets, or as a read-modify-write, across two instances.

// raceCallers is how many goroutines each race spreads over the handles.
const raceCallers = 16

// createWithOneKeyHasOneWinnerAcrossInstances has many callers on two
// instances create a record under the same key at once, each with its own
// content: exactly one succeeds, every other gets ErrConflict, and both
// instances then hold the winner's record.
func (s sharedSuite) createWithOneKeyHasOneWinnerAcrossInstances(t *testing.T) {
	for _, kind := range createKinds() {
		t.Run(kind.name, func(t *testing.T) {
			a, b := s.newPair(t)
			handles := []store.Store{a, b}
			const rounds = 5
			for round := range rounds {
				var losses atomic.Int32
				winners := make(chan string, raceCallers)
				parallel(raceCallers, func(i int) {
					err := kind.create(t, handles[i%2], round, i)
					switch {
					case err == nil:
						winners <- callerName(i)
					case errors.Is(err, store.ErrConflict):
						losses.Add(1)
					default:
						t.Errorf("creating the %s on handle %d: %v, want nil or ErrConflict", kind.name, i%2, err)
					}
				})
				close(winners)
				if len(winners) != 1 || losses.Load() != raceCallers-1 {
					t.Fatalf("round %d: of %d concurrent creates of one %s on two instances, %d succeeded and %d got ErrConflict; want 1 and %d",
						round, raceCallers, kind.name, len(winners), losses.Load(), raceCallers-1)
				}
				winner := <-winners
				// Read on the other instance than the one the winner used
				// for half the rounds; the activation read consumes it, so
				// it is read once.
				if got := kind.owner(t, handles[round%2], round); got != winner {
					t.Errorf("round %d: stored %s holds the content of %s, want the winner %s's",
						round, kind.name, got, winner)
				}
			}
		})
	}
}

// createKind is a kind of record created under a key of its own, which
// createWithOneKeyHasOneWinnerAcrossInstances races to create.
type createKind struct {
	name string
	// create stores round's record with the content of caller i.
	create func(t *testing.T, st store.Store, round, i int) error
	// owner reads back round's record and returns the caller whose
	// content it holds.
	owner func(t *testing.T, st store.Store, round int) string
}

// createKinds are the records created under a key of their own: devices,
// activations, transactions and pushes.
func createKinds() []createKind {
	return []createKind{
		{"device",
			func(t *testing.T, st store.Store, round, i int) error {
				return st.CreateDevice(t.Context(), newDevice(round, callerName(i), base))
			},
			func(t *testing.T, st store.Store, round int) string {
				return storedDevice(t, st, newDevice(round, "", base).ID).User
			}},
		{"activation",
			func(t *testing.T, st store.Store, round, i int) error {
				return st.CreateActivation(t.Context(), testActivation(round, callerName(i)))
			},
			func(t *testing.T, st store.Store, round int) string {
				// An activation can only be read by consuming it.
				a, err := st.ConsumeActivation(t.Context(), testActivation(round, "").CodeHash, base)
				if err != nil {
					t.Fatalf("ConsumeActivation: %v", err)
				}
				return a.User
			}},
		{"transaction",
			func(t *testing.T, st store.Store, round, i int) error {
				return st.CreateTransaction(t.Context(), testTransaction(round, callerName(i)))
			},
			func(t *testing.T, st store.Store, round int) string {
				return storedTransaction(t, st, testTransaction(round, "").ID).User
			}},
		{"push",
			func(t *testing.T, st store.Store, round, i int) error {
				p := testPush(round, "thumbprint-1", base)
				p.User = callerName(i)
				return st.CreatePush(t.Context(), p)
			},
			func(t *testing.T, st store.Store, round int) string {
				return storedPush(t, st, testPush(round, "thumbprint-1", base).ID).User
			}},
	}
}

// callerName names caller i of a race, as the content it writes.
func callerName(i int) string { return fmt.Sprintf("caller-%d", i) }

// transitionTransactionToRivalStatesHasOneWinnerAcrossInstances races the
// device's report (pending to reported) against a denial (pending to
// denied), as when the person denies on the push while the app reports,
// and then approval against denial: at each step exactly one caller wins,
// whichever target it asked for, and every other gets ErrConflict.
func (s sharedSuite) transitionTransactionToRivalStatesHasOneWinnerAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	handles := []store.Store{a, b}
	const rounds = 5
	for round := range rounds {
		tr := testTransaction(round, "alice")
		createTransactions(t, handles[round%2], tr)
		steps := []struct {
			from    string
			targets [2]string // even callers ask for the first, odd for the second
		}{
			{store.TransactionPending, [2]string{store.TransactionReported, store.TransactionDenied}},
			{store.TransactionReported, [2]string{store.TransactionApproved, store.TransactionDenied}},
		}
		for n, step := range steps {
			now := base.Add(time.Duration(n+1) * time.Second)
			var losses atomic.Int32
			winners := make(chan store.Transaction, raceCallers)
			parallel(raceCallers, func(i int) {
				to, device := step.targets[i%2], ""
				if to == store.TransactionReported {
					device = fmt.Sprintf("thumbprint-%d", i)
				}
				got, err := handles[(i/2)%2].TransitionTransaction(t.Context(), tr.ID, step.from, to, device, nil, now)
				switch {
				case err == nil:
					winners <- got
					if got.State != to {
						t.Errorf("winning TransitionTransaction to %s returned state %s", to, got.State)
					}
				case errors.Is(err, store.ErrConflict):
					losses.Add(1)
				default:
					t.Errorf("TransitionTransaction %s -> %s: %v, want nil or ErrConflict", step.from, to, err)
				}
			})
			close(winners)
			if len(winners) != 1 || losses.Load() != raceCallers-1 {
				t.Fatalf("round %d: of %d concurrent transitions from %s to %s or %s on two instances, %d won and %d got ErrConflict; want 1 and %d",
					round, raceCallers, step.from, step.targets[0], step.targets[1], len(winners), losses.Load(), raceCallers-1)
			}
			winner := <-winners
			for i, h := range handles {
				got := storedTransaction(t, h, tr.ID)
				if got.State != winner.State || got.DeviceID != winner.DeviceID {
					t.Errorf("round %d: handle %d sees state %s with device %q, want the winner's %s with %q",
						round, i, got.State, got.DeviceID, winner.State, winner.DeviceID)
				}
			}
			if winner.State != store.TransactionReported {
				break // denied is final: there is no next step to race
			}
		}
	}
}

// lastSeenIsLatestAfterConcurrentUpdatesAcrossInstances has many callers on
// two instances record the same device's health at different times at once,
// the latest times first:
// LastSeen must end at the latest of them whatever order the writes land
// in, which a read-then-write backend gets wrong when writes interleave.
func (s sharedSuite) lastSeenIsLatestAfterConcurrentUpdatesAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	handles := []store.Store{a, b}
	const rounds = 5
	for round := range rounds {
		d := newDevice(round, "alice", base)
		createDevices(t, handles[round%2], d)
		latest := base.Add(raceCallers * time.Second)
		parallel(raceCallers, func(i int) {
			at := latest.Add(-time.Duration(i) * time.Second)
			h := handles[i%2]
			if err := h.RecordHealth(t.Context(), d.ID, []byte(`{"screen_lock":true}`), "trusted", at); err != nil {
				t.Errorf("recording device %s seen at %v on handle %d: %v", d.ID, at, i%2, err)
			}
		})
		for i, h := range handles {
			got := storedDevice(t, h, d.ID)
			checkTime(t, fmt.Sprintf("round %d: handle %d: LastSeen after concurrent updates", round, i), got.LastSeen, latest)
		}
	}
}
