package storetest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

func (s suite) useOnceIsSingleUse(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	expires := base.Add(10 * time.Minute)

	for i, want := range []bool{true, false, false} {
		got, err := st.UseOnce(ctx, "state-1", expires)
		if err != nil {
			t.Fatalf("UseOnce call %d: %v", i+1, err)
		}
		if got != want {
			t.Errorf("UseOnce call %d = %v, want %v", i+1, got, want)
		}
	}
	// A different id, even with a later expiry, is independent.
	got, err := st.UseOnce(ctx, "state-2", expires)
	if err != nil {
		t.Fatalf("UseOnce(state-2): %v", err)
	}
	if !got {
		t.Error("UseOnce of a fresh id = false, want true")
	}
}

func (s suite) useOnceIsSingleUseUnderConcurrency(t *testing.T) {
	st := s.newStore(t)
	raceUseOnce(t, []store.Store{st})
}

// raceUseOnce has many goroutines, spread over handles, consume the same id
// at once, and checks that exactly one of them wins. It repeats the race with
// fresh ids, since a check-then-insert backend loses only some of them.
func raceUseOnce(t *testing.T, handles []store.Store) {
	t.Helper()
	const rounds, callers = 10, 16
	for round := range rounds {
		id := fmt.Sprintf("state-race-%d", round)
		var wins, errs atomic.Int32
		parallel(callers, func(i int) {
			ok, err := handles[i%len(handles)].UseOnce(t.Context(), id, base.Add(time.Hour))
			if err != nil {
				errs.Add(1)
				t.Errorf("UseOnce on handle %d: %v", i%len(handles), err)
				return
			}
			if ok {
				wins.Add(1)
			}
		})
		if errs.Load() == 0 && wins.Load() != 1 {
			t.Fatalf("round %d: %d of %d concurrent UseOnce calls on %d handle(s) returned true, want exactly 1",
				round, wins.Load(), callers, len(handles))
		}
	}
}

func (s suite) purgeFreesExpiredSingleUseIDs(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	ids := map[string]time.Time{
		"expired": base.Add(-time.Minute),
		"live":    base.Add(time.Minute),
	}
	for id, expires := range ids {
		if ok, err := st.UseOnce(ctx, id, expires); err != nil || !ok {
			t.Fatalf("UseOnce(%s) = %v, %v; want true, nil", id, ok, err)
		}
	}
	if err := st.Purge(ctx, base); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	for id, want := range map[string]bool{"expired": true, "live": false} {
		got, err := st.UseOnce(ctx, id, base.Add(time.Hour))
		if err != nil {
			t.Fatalf("UseOnce(%s) after Purge: %v", id, err)
		}
		if got != want {
			t.Errorf("UseOnce(%s) after Purge(base) = %v, want %v", id, got, want)
		}
	}
}
