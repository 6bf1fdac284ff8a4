package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testTransaction returns a pending transaction of user that lives five
// minutes from base, whose ID is derived from n.
func testTransaction(n int, user string) store.Transaction {
	return store.Transaction{
		ID:      fmt.Sprintf("txn-%d", n),
		User:    user,
		State:   store.TransactionPending,
		Data:    json.RawMessage(`{"challenge":"c-1","access_device":{"os":"Android"}}`),
		Created: base,
		Expires: base.Add(5 * time.Minute),
		Updated: base,
	}
}

// checkTransaction reports how got differs from want.
func checkTransaction(t *testing.T, got, want store.Transaction) {
	t.Helper()
	checkTime(t, want.ID+" Created", got.Created, want.Created)
	checkTime(t, want.ID+" Expires", got.Expires, want.Expires)
	checkTime(t, want.ID+" Updated", got.Updated, want.Updated)
	checkJSON(t, want.ID+" Data", got.Data, want.Data)
	got.Created, got.Expires, got.Updated, got.Data = time.Time{}, time.Time{}, time.Time{}, nil
	want.Created, want.Expires, want.Updated, want.Data = time.Time{}, time.Time{}, time.Time{}, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("transaction = %+v, want %+v", got, want)
	}
}

// createTransactions stores transactions in order.
func createTransactions(t *testing.T, st store.Store, transactions ...store.Transaction) {
	t.Helper()
	for _, tr := range transactions {
		if err := st.CreateTransaction(t.Context(), tr); err != nil {
			t.Fatalf("CreateTransaction(%s): %v", tr.ID, err)
		}
	}
}

// storedTransaction loads transaction id, failing t if it cannot.
func storedTransaction(t *testing.T, st store.Store, id string) store.Transaction {
	t.Helper()
	tr, err := st.Transaction(t.Context(), id)
	if err != nil {
		t.Fatalf("Transaction(%s): %v", id, err)
	}
	return tr
}

func (s suite) createTransactionRoundTripsEveryField(t *testing.T) {
	tests := []struct {
		name string
		edit func(tr *store.Transaction)
		// want, when set, edits what must come back.
		want func(tr *store.Transaction)
	}{
		{"every field", func(tr *store.Transaction) {
			zone := time.FixedZone("UTC+5:30", 5*60*60+30*60)
			tr.State, tr.DeviceID = store.TransactionReported, "thumbprint-1"
			tr.Created, tr.Expires, tr.Updated = tr.Created.In(zone), tr.Expires.In(zone), base.Add(time.Second).In(zone)
		}, nil},
		{"nil data", func(tr *store.Transaction) { tr.Data = nil }, nil},
		{"empty data", func(tr *store.Transaction) { tr.Data = json.RawMessage{} }, nil},
		{"zero updated", func(tr *store.Transaction) { tr.Updated = time.Time{} }, nil},
		{"empty state is pending", func(tr *store.Transaction) { tr.State = "" },
			func(tr *store.Transaction) { tr.State = store.TransactionPending }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			tr := testTransaction(1, "alice")
			tt.edit(&tr)
			createTransactions(t, st, tr)
			want := tr
			if tt.want != nil {
				tt.want(&want)
			}
			checkTransaction(t, storedTransaction(t, st, tr.ID), want)
		})
	}
}

func (s suite) createTransactionRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	tr := testTransaction(1, "alice")
	createTransactions(t, st, tr)
	dup := testTransaction(1, "mallory")
	dup.State = store.TransactionApproved
	if err := st.CreateTransaction(t.Context(), dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateTransaction with an ID already stored = %v, want ErrConflict", err)
	}
	checkTransaction(t, storedTransaction(t, st, tr.ID), tr)
}

func (s suite) transactionOfUnknownIDIsNotFound(t *testing.T) {
	st := s.newStore(t)
	createTransactions(t, st, testTransaction(1, "alice"))
	if _, err := st.Transaction(t.Context(), "txn-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Transaction of an unknown ID = %v, want ErrNotFound", err)
	}
}

func (s suite) transitionTransactionFollowsTheFlow(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	tr, other := testTransaction(1, "alice"), testTransaction(2, "alice")
	createTransactions(t, st, tr, other)
	want := tr

	steps := []struct {
		from, to, deviceID string
		data               json.RawMessage
	}{
		// The report sets the device and the verdict.
		{store.TransactionPending, store.TransactionReported, "thumbprint-1", json.RawMessage(`{"verdict":"trusted"}`)},
		// Approval keeps both: an empty device ID and nil data change nothing.
		{store.TransactionReported, store.TransactionApproved, "", nil},
		// So does empty (not nil) data.
		{store.TransactionApproved, store.TransactionCompleted, "", json.RawMessage{}},
	}
	for i, step := range steps {
		now := base.Add(time.Duration(i+1) * time.Minute)
		got, err := st.TransitionTransaction(ctx, tr.ID, step.from, step.to, step.deviceID, step.data, now)
		if err != nil {
			t.Fatalf("TransitionTransaction %s -> %s: %v", step.from, step.to, err)
		}
		want.State, want.Updated = step.to, now
		if step.deviceID != "" {
			want.DeviceID = step.deviceID
		}
		if len(step.data) > 0 {
			want.Data = step.data
		}
		checkTransaction(t, got, want)
		checkTransaction(t, storedTransaction(t, st, tr.ID), want)
	}
	checkTransaction(t, storedTransaction(t, st, other.ID), other)
}

func (s suite) transitionTransactionRefusesWhatItCannotDo(t *testing.T) {
	tests := []struct {
		name     string
		id, from string
		now      time.Time
		wantErr  error
	}{
		{"from the wrong state", "txn-1", store.TransactionReported, base.Add(time.Minute), store.ErrConflict},
		{"from a final state", "txn-1", store.TransactionCompleted, base.Add(time.Minute), store.ErrConflict},
		{"exactly at expiry", "txn-1", store.TransactionPending, base.Add(5 * time.Minute), store.ErrConflict},
		{"after expiry", "txn-1", store.TransactionPending, base.Add(time.Hour), store.ErrConflict},
		{"unknown", "txn-9", store.TransactionPending, base.Add(time.Minute), store.ErrNotFound},
		{"unknown and from the wrong state", "txn-9", store.TransactionReported, base.Add(time.Hour), store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			tr := testTransaction(1, "alice")
			createTransactions(t, st, tr)
			_, err := st.TransitionTransaction(t.Context(), tt.id, tt.from, store.TransactionApproved,
				"thumbprint-1", json.RawMessage(`{"verdict":"trusted"}`), tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("TransitionTransaction = %v, want %v", err, tt.wantErr)
			}
			checkTransaction(t, storedTransaction(t, st, tr.ID), tr)
		})
	}
}

func (s suite) transitionTransactionHasOneWinnerUnderConcurrency(t *testing.T) {
	st := s.newStore(t)
	raceTransitionTransaction(t, []store.Store{st})
}

// raceTransitionTransaction has many goroutines, spread over handles, each
// report its own device for the same pending transaction at once, and
// checks that exactly one wins, the others get ErrConflict, and the stored
// device is the winner's. It repeats the race with fresh transactions.
func raceTransitionTransaction(t *testing.T, handles []store.Store) {
	t.Helper()
	const rounds, callers = 10, 16
	for round := range rounds {
		tr := testTransaction(round, "alice")
		createTransactions(t, handles[round%len(handles)], tr)
		var losses atomic.Int32
		winners := make(chan string, callers)
		parallel(callers, func(i int) {
			device := fmt.Sprintf("thumbprint-%d", i)
			got, err := handles[i%len(handles)].TransitionTransaction(t.Context(), tr.ID,
				store.TransactionPending, store.TransactionReported, device, nil, base.Add(time.Second))
			switch {
			case err == nil:
				winners <- device
				if got.DeviceID != device || got.State != store.TransactionReported {
					t.Errorf("winning TransitionTransaction returned device %q in state %s, want %q in %s",
						got.DeviceID, got.State, device, store.TransactionReported)
				}
			case errors.Is(err, store.ErrConflict):
				losses.Add(1)
			default:
				t.Errorf("TransitionTransaction on handle %d: %v, want nil or ErrConflict", i%len(handles), err)
			}
		})
		close(winners)
		if len(winners) != 1 || losses.Load() != callers-1 {
			t.Fatalf("round %d: of %d concurrent TransitionTransaction calls on %d handle(s), %d won and %d got ErrConflict; want 1 and %d",
				round, callers, len(handles), len(winners), losses.Load(), callers-1)
		}
		winner := <-winners
		for i, h := range handles {
			got, err := h.Transaction(t.Context(), tr.ID)
			if err != nil {
				t.Fatalf("Transaction on handle %d: %v", i, err)
			}
			if got.DeviceID != winner || got.State != store.TransactionReported {
				t.Errorf("round %d: handle %d sees device %q in state %s, want the winner %q in %s",
					round, i, got.DeviceID, got.State, winner, store.TransactionReported)
			}
		}
	}
}
