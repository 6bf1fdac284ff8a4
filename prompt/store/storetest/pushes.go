package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testPush returns a pending push to device that lives a minute from
// created, whose ID is derived from n.
func testPush(n int, device string, created time.Time) store.Push {
	return store.Push{
		ID:            fmt.Sprintf("push-%d", n),
		User:          "alice",
		DeviceID:      device,
		TransactionID: fmt.Sprintf("txn-%d", n),
		State:         store.PushPending,
		Details:       json.RawMessage(`{"application":"wiki","ip":"192.0.2.1","number":42}`),
		Created:       created,
		Expires:       created.Add(time.Minute),
	}
}

// checkPush reports how got differs from want.
func checkPush(t *testing.T, got, want store.Push) {
	t.Helper()
	checkTime(t, want.ID+" Created", got.Created, want.Created)
	checkTime(t, want.ID+" Expires", got.Expires, want.Expires)
	checkJSON(t, want.ID+" Details", got.Details, want.Details)
	got.Created, got.Expires, got.Details = time.Time{}, time.Time{}, nil
	want.Created, want.Expires, want.Details = time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("push = %+v, want %+v", got, want)
	}
}

// createPushes stores pushes in order.
func createPushes(t *testing.T, st store.Store, pushes ...store.Push) {
	t.Helper()
	for _, p := range pushes {
		if err := st.CreatePush(t.Context(), p); err != nil {
			t.Fatalf("CreatePush(%s): %v", p.ID, err)
		}
	}
}

// storedPush loads push id, failing t if it cannot.
func storedPush(t *testing.T, st store.Store, id string) store.Push {
	t.Helper()
	p, err := st.Push(t.Context(), id)
	if err != nil {
		t.Fatalf("Push(%s): %v", id, err)
	}
	return p
}

func pushIDs(pushes []store.Push) []string {
	ids := make([]string, len(pushes))
	for i, p := range pushes {
		ids[i] = p.ID
	}
	return ids
}

func (s suite) createPushRoundTripsEveryField(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *store.Push)
		want func(p *store.Push)
	}{
		{"every field", func(p *store.Push) {
			zone := time.FixedZone("UTC-8", -8*60*60)
			p.Created, p.Expires = p.Created.In(zone), p.Expires.In(zone)
			p.Details = json.RawMessage(`{"application":"<script>alert(1)</script>","os":"Android 15 \u00e9"}`)
		}, nil},
		{"nil details", func(p *store.Push) { p.Details = nil }, nil},
		{"empty details", func(p *store.Push) { p.Details = json.RawMessage{} }, nil},
		{"empty state is pending", func(p *store.Push) { p.State = "" },
			func(p *store.Push) { p.State = store.PushPending }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			p := testPush(1, "thumbprint-1", base)
			tt.edit(&p)
			createPushes(t, st, p)
			want := p
			if tt.want != nil {
				tt.want(&want)
			}
			checkPush(t, storedPush(t, st, p.ID), want)
		})
	}
}

func (s suite) createPushRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	p := testPush(1, "thumbprint-1", base)
	createPushes(t, st, p)
	dup := testPush(1, "thumbprint-2", base.Add(time.Hour))
	if err := st.CreatePush(t.Context(), dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreatePush with an ID already stored = %v, want ErrConflict", err)
	}
	checkPush(t, storedPush(t, st, p.ID), p)
	if _, err := st.Push(t.Context(), "push-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Push of an unknown ID = %v, want ErrNotFound", err)
	}
}

func (s suite) pendingPushesListsOnlyPendingUnexpiredOldestFirst(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	now := base
	minute := func(n int) time.Time { return now.Add(time.Duration(n) * time.Minute) }
	answered := testPush(4, "thumbprint-1", minute(0))
	expired := testPush(5, "thumbprint-1", minute(-1)) // expires exactly at now
	longLived := testPush(6, "thumbprint-1", minute(-10))
	longLived.Expires = minute(10)
	// Stored in an order that is not the order of Created; push-2 and
	// push-3 share a Created time and must come in the order they were stored.
	createPushes(t, st,
		testPush(1, "thumbprint-1", minute(0).Add(-time.Second)),
		testPush(2, "thumbprint-1", minute(0).Add(-2*time.Second)),
		testPush(3, "thumbprint-1", minute(0).Add(-2*time.Second)),
		answered, expired, longLived,
		testPush(7, "thumbprint-2", minute(0)),
	)
	if _, err := st.AnswerPush(ctx, answered.ID, answered.DeviceID, store.PushDenied, "user_cancelled", now); err != nil {
		t.Fatalf("AnswerPush: %v", err)
	}

	tests := []struct {
		device string
		want   []string
	}{
		{"thumbprint-1", []string{"push-6", "push-2", "push-3", "push-1"}},
		{"thumbprint-2", []string{"push-7"}},
		{"thumbprint-3", nil},
	}
	for _, tt := range tests {
		t.Run(tt.device, func(t *testing.T) {
			got, err := st.PendingPushes(ctx, tt.device, now)
			if err != nil {
				t.Fatalf("PendingPushes(%s): %v", tt.device, err)
			}
			if !slices.Equal(pushIDs(got), tt.want) {
				t.Fatalf("PendingPushes(%s) = %v, want %v", tt.device, pushIDs(got), tt.want)
			}
			for _, p := range got {
				checkPush(t, p, storedPush(t, st, p.ID))
			}
		})
	}
	// A microsecond earlier, the expired push was still pending.
	got, err := st.PendingPushes(ctx, "thumbprint-1", now.Add(-time.Microsecond))
	if err != nil {
		t.Fatalf("PendingPushes: %v", err)
	}
	if !slices.Contains(pushIDs(got), expired.ID) {
		t.Errorf("PendingPushes a microsecond before %s expires = %v, want it listed", expired.ID, pushIDs(got))
	}
}

func (s suite) answerPushRecordsTheAnswer(t *testing.T) {
	tests := []struct {
		state, answer string
	}{
		{store.PushApproved, ""},
		{store.PushDenied, "user_marked_fraud"},
	}
	for _, tt := range tests {
		t.Run(tt.state, func(t *testing.T) {
			st := s.newStore(t)
			p, other := testPush(1, "thumbprint-1", base), testPush(2, "thumbprint-1", base)
			createPushes(t, st, p, other)
			got, err := st.AnswerPush(t.Context(), p.ID, p.DeviceID, tt.state, tt.answer, base.Add(time.Second))
			if err != nil {
				t.Fatalf("AnswerPush: %v", err)
			}
			want := p
			want.State, want.Answer = tt.state, tt.answer
			checkPush(t, got, want)
			checkPush(t, storedPush(t, st, p.ID), want)
			checkPush(t, storedPush(t, st, other.ID), other)
			pending, err := st.PendingPushes(t.Context(), p.DeviceID, base.Add(time.Second))
			if err != nil {
				t.Fatalf("PendingPushes: %v", err)
			}
			if !slices.Equal(pushIDs(pending), []string{other.ID}) {
				t.Errorf("after AnswerPush, PendingPushes = %v, want only %s", pushIDs(pending), other.ID)
			}
		})
	}
}

func (s suite) answerPushRefusesWhatItCannotDo(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		device  string
		now     time.Time
		wantErr error
	}{
		{"push of another device", "push-1", "thumbprint-2", base.Add(time.Second), store.ErrNotFound},
		{"unknown push", "push-9", "thumbprint-1", base.Add(time.Second), store.ErrNotFound},
		{"expired push of another device", "push-1", "thumbprint-2", base.Add(time.Hour), store.ErrNotFound},
		{"exactly at expiry", "push-1", "thumbprint-1", base.Add(time.Minute), store.ErrConflict},
		{"after expiry", "push-1", "thumbprint-1", base.Add(time.Hour), store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			p := testPush(1, "thumbprint-1", base)
			createPushes(t, st, p)
			_, err := st.AnswerPush(t.Context(), tt.id, tt.device, store.PushApproved, "", tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("AnswerPush = %v, want %v", err, tt.wantErr)
			}
			checkPush(t, storedPush(t, st, p.ID), p)
		})
	}
}

func (s suite) answerPushTwiceConflicts(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	p := testPush(1, "thumbprint-1", base)
	createPushes(t, st, p)
	if _, err := st.AnswerPush(ctx, p.ID, p.DeviceID, store.PushDenied, "user_cancelled", base); err != nil {
		t.Fatalf("AnswerPush: %v", err)
	}
	for _, state := range []string{store.PushApproved, store.PushDenied} {
		if _, err := st.AnswerPush(ctx, p.ID, p.DeviceID, state, "", base); !errors.Is(err, store.ErrConflict) {
			t.Errorf("AnswerPush %s after an answer = %v, want ErrConflict", state, err)
		}
	}
	want := p
	want.State, want.Answer = store.PushDenied, "user_cancelled"
	checkPush(t, storedPush(t, st, p.ID), want)
}

func (s suite) answerPushRejectsStateThatIsNotAnAnswer(t *testing.T) {
	st := s.newStore(t)
	p := testPush(1, "thumbprint-1", base)
	createPushes(t, st, p)
	for _, state := range []string{store.PushPending, "", "approve"} {
		if _, err := st.AnswerPush(t.Context(), p.ID, p.DeviceID, state, "", base); err == nil {
			t.Errorf("AnswerPush to state %q succeeded, want an error", state)
		}
	}
	checkPush(t, storedPush(t, st, p.ID), p)
}

func (s suite) answerPushHasOneWinnerUnderConcurrency(t *testing.T) {
	st := s.newStore(t)
	raceAnswerPush(t, []store.Store{st})
}

// raceAnswerPush has many goroutines, spread over handles, answer the same
// push at once, half approving and half denying, and checks that exactly
// one wins, the others get ErrConflict, and the stored answer is the
// winner's. It repeats the race with fresh pushes.
func raceAnswerPush(t *testing.T, handles []store.Store) {
	t.Helper()
	const rounds, callers = 10, 16
	for round := range rounds {
		p := testPush(round, "thumbprint-1", base)
		createPushes(t, handles[round%len(handles)], p)
		var losses atomic.Int32
		winners := make(chan store.Push, callers)
		parallel(callers, func(i int) {
			state := store.PushApproved
			if i%2 == 1 {
				state = store.PushDenied
			}
			answer := fmt.Sprintf("caller-%d", i)
			got, err := handles[i%len(handles)].AnswerPush(t.Context(), p.ID, p.DeviceID, state, answer, base.Add(time.Second))
			switch {
			case err == nil:
				winners <- got
				if got.State != state || got.Answer != answer {
					t.Errorf("winning AnswerPush returned %s %q, want %s %q", got.State, got.Answer, state, answer)
				}
			case errors.Is(err, store.ErrConflict):
				losses.Add(1)
			default:
				t.Errorf("AnswerPush on handle %d: %v, want nil or ErrConflict", i%len(handles), err)
			}
		})
		close(winners)
		if len(winners) != 1 || losses.Load() != callers-1 {
			t.Fatalf("round %d: of %d concurrent AnswerPush calls on %d handle(s), %d won and %d got ErrConflict; want 1 and %d",
				round, callers, len(handles), len(winners), losses.Load(), callers-1)
		}
		winner := <-winners
		for _, h := range handles {
			checkPush(t, storedPush(t, h, p.ID), winner)
		}
	}
}
