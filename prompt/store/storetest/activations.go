package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testActivation returns an activation of user that lives ten minutes from
// base, whose code hash is derived from n.
func testActivation(n int, user string) store.Activation {
	return store.Activation{
		CodeHash: fmt.Sprintf("sha256:code-%d", n),
		User:     user,
		Realm:    "users:/etc/trustgate/users.yaml",
		Created:  base,
		Expires:  base.Add(10 * time.Minute),
	}
}

// checkActivation reports how got differs from want.
func checkActivation(t *testing.T, got, want store.Activation) {
	t.Helper()
	checkTime(t, "activation Created", got.Created, want.Created)
	checkTime(t, "activation Expires", got.Expires, want.Expires)
	if got.CodeHash != want.CodeHash || got.User != want.User || got.Realm != want.Realm {
		t.Errorf("activation = %+v, want %+v", got, want)
	}
}

// createActivations stores activations in order.
func createActivations(t *testing.T, st store.Store, activations ...store.Activation) {
	t.Helper()
	for _, a := range activations {
		if err := st.CreateActivation(t.Context(), a); err != nil {
			t.Fatalf("CreateActivation(%s): %v", a.CodeHash, err)
		}
	}
}

func (s suite) consumeActivationSucceedsOnce(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	a, other := testActivation(1, "alice"), testActivation(2, "alice")
	a.Created = base.In(time.FixedZone("UTC-3", -3*60*60))
	createActivations(t, st, a, other)

	got, err := st.ConsumeActivation(ctx, a.CodeHash, base.Add(time.Minute))
	if err != nil {
		t.Fatalf("ConsumeActivation: %v", err)
	}
	checkActivation(t, got, a)
	for i := range 2 {
		if _, err := st.ConsumeActivation(ctx, a.CodeHash, base.Add(time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsumeActivation again (%d) = %v, want ErrNotFound", i+1, err)
		}
	}
	// Another code is untouched.
	if got, err := st.ConsumeActivation(ctx, other.CodeHash, base.Add(time.Minute)); err != nil {
		t.Errorf("ConsumeActivation of another code: %v", err)
	} else {
		checkActivation(t, got, other)
	}
}

func (s suite) consumeActivationExpiresAtExpires(t *testing.T) {
	tests := []struct {
		name    string
		now     time.Duration // after Expires
		wantErr error
	}{
		{"a microsecond before", -time.Microsecond, nil},
		{"exactly at expiry", 0, store.ErrNotFound},
		{"an hour after", time.Hour, store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			a := testActivation(1, "alice")
			createActivations(t, st, a)
			_, err := st.ConsumeActivation(t.Context(), a.CodeHash, a.Expires.Add(tt.now))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ConsumeActivation at Expires%+v = %v, want %v", tt.now, err, tt.wantErr)
			}
		})
	}
}

func (s suite) consumeActivationOfUnknownCodeIsNotFound(t *testing.T) {
	st := s.newStore(t)
	createActivations(t, st, testActivation(1, "alice"))
	if _, err := st.ConsumeActivation(t.Context(), "sha256:code-2", base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeActivation of an unknown code = %v, want ErrNotFound", err)
	}
}

func (s suite) createActivationRejectsDuplicateCode(t *testing.T) {
	st := s.newStore(t)
	a := testActivation(1, "alice")
	createActivations(t, st, a)
	dup := a
	dup.User, dup.Expires = "mallory", a.Expires.Add(time.Hour)
	if err := st.CreateActivation(t.Context(), dup); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateActivation with a code hash already stored = %v, want ErrConflict", err)
	}
	got, err := st.ConsumeActivation(t.Context(), a.CodeHash, base)
	if err != nil {
		t.Fatalf("ConsumeActivation: %v", err)
	}
	checkActivation(t, got, a)
}

func (s suite) consumeActivationIsSingleUseUnderConcurrency(t *testing.T) {
	st := s.newStore(t)
	raceConsumeActivation(t, []store.Store{st})
}

// raceConsumeActivation has many goroutines, spread over handles, consume
// the same activation at once, and checks that exactly one gets it and all
// the others get ErrNotFound. It repeats the race with fresh codes.
func raceConsumeActivation(t *testing.T, handles []store.Store) {
	t.Helper()
	const rounds, callers = 10, 16
	for round := range rounds {
		a := testActivation(round, "alice")
		createActivations(t, handles[round%len(handles)], a)
		var wins, losses atomic.Int32
		parallel(callers, func(i int) {
			got, err := handles[i%len(handles)].ConsumeActivation(t.Context(), a.CodeHash, base)
			switch {
			case err == nil:
				wins.Add(1)
				checkActivation(t, got, a)
			case errors.Is(err, store.ErrNotFound):
				losses.Add(1)
			default:
				t.Errorf("ConsumeActivation on handle %d: %v, want nil or ErrNotFound", i%len(handles), err)
			}
		})
		if wins.Load() != 1 || losses.Load() != callers-1 {
			t.Fatalf("round %d: of %d concurrent ConsumeActivation calls on %d handle(s), %d won and %d got ErrNotFound; want 1 and %d",
				round, callers, len(handles), wins.Load(), losses.Load(), callers-1)
		}
	}
}
