package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// oneCommitter returns st as a store.OneCommitter, or skips the test: a
// backend need not offer InOneCommit.
func oneCommitter(t *testing.T, st store.Store) store.OneCommitter {
	t.Helper()
	c, ok := st.(store.OneCommitter)
	if !ok {
		t.Skip("the store does not run calls in one commit (store.OneCommitter)")
	}
	return c
}

func (s suite) inOneCommitCallsSeeEachOtherAndAllCommit(t *testing.T) {
	st := s.newStore(t)
	c := oneCommitter(t, st)
	tr := testTransaction(1, "alice")
	var fresh bool
	err := c.InOneCommit(t.Context(), func(ctx context.Context) error {
		if err := st.CreateTransaction(ctx, tr); err != nil {
			return err
		}
		// The transaction written just before is there to move.
		if _, err := st.TransitionTransaction(ctx, tr.ID, store.TransactionPending, store.TransactionReported, "d1", nil, base); err != nil {
			return err
		}
		got, err := st.Transaction(ctx, tr.ID)
		if err != nil {
			return err
		}
		if got.State != store.TransactionReported {
			return fmt.Errorf("inside InOneCommit, state = %s, want %s", got.State, store.TransactionReported)
		}
		var err2 error
		fresh, err2 = st.UseOnce(ctx, "proof-1", base.Add(time.Hour))
		return err2
	})
	if err != nil {
		t.Fatalf("InOneCommit: %v", err)
	}
	if !fresh {
		t.Error("UseOnce inside InOneCommit of a fresh id = false, want true")
	}
	if got := storedTransaction(t, st, tr.ID); got.State != store.TransactionReported || got.DeviceID != "d1" {
		t.Errorf("after InOneCommit, transaction state %s, device %q; want %s, d1", got.State, got.DeviceID, store.TransactionReported)
	}
	again, err := st.UseOnce(t.Context(), "proof-1", base.Add(time.Hour))
	if err != nil || again {
		t.Errorf("UseOnce after InOneCommit used the id = %v, %v; want false, nil", again, err)
	}
}

func (s suite) inOneCommitErrorKeepsNothing(t *testing.T) {
	st := s.newStore(t)
	c := oneCommitter(t, st)
	kept := testTransaction(1, "alice")
	createTransactions(t, st, kept)
	tr := testTransaction(2, "alice")
	refused := errors.New("refused")
	err := c.InOneCommit(t.Context(), func(ctx context.Context) error {
		if err := st.CreateTransaction(ctx, tr); err != nil {
			return err
		}
		if _, err := st.TransitionTransaction(ctx, kept.ID, store.TransactionPending, store.TransactionDenied, "", nil, base); err != nil {
			return err
		}
		if _, err := st.UseOnce(ctx, "proof-1", base.Add(time.Hour)); err != nil {
			return err
		}
		return refused
	})
	if !errors.Is(err, refused) {
		t.Fatalf("InOneCommit = %v, want fn's error", err)
	}
	if _, err := st.Transaction(t.Context(), tr.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("transaction created in a failed InOneCommit: Transaction = %v, want ErrNotFound", err)
	}
	if got := storedTransaction(t, st, kept.ID); got.State != store.TransactionPending {
		t.Errorf("transaction moved in a failed InOneCommit: state %s, want %s", got.State, store.TransactionPending)
	}
	fresh, err := st.UseOnce(t.Context(), "proof-1", base.Add(time.Hour))
	if err != nil || !fresh {
		t.Errorf("id used in a failed InOneCommit: UseOnce = %v, %v; want true, nil", fresh, err)
	}
}

func (s suite) inOneCommitNestedErrorUndoesOnlyTheInnerCalls(t *testing.T) {
	st := s.newStore(t)
	c := oneCommitter(t, st)
	outer, inner := testTransaction(1, "alice"), testTransaction(2, "alice")
	refused := errors.New("refused")
	err := c.InOneCommit(t.Context(), func(ctx context.Context) error {
		if err := st.CreateTransaction(ctx, outer); err != nil {
			return err
		}
		err := c.InOneCommit(ctx, func(ctx context.Context) error {
			if err := st.CreateTransaction(ctx, inner); err != nil {
				return err
			}
			return refused
		})
		if !errors.Is(err, refused) {
			return fmt.Errorf("nested InOneCommit = %v, want fn's error", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InOneCommit: %v", err)
	}
	storedTransaction(t, st, outer.ID)
	if _, err := st.Transaction(t.Context(), inner.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("transaction of the failed nested InOneCommit: Transaction = %v, want ErrNotFound", err)
	}
}

func (s suite) inOneCommitWithCanceledContextChangesNothing(t *testing.T) {
	st := s.newStore(t)
	c := oneCommitter(t, st)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tr := testTransaction(1, "alice")
	err := c.InOneCommit(ctx, func(ctx context.Context) error { return st.CreateTransaction(ctx, tr) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("InOneCommit with a canceled context = %v, want an error wrapping context.Canceled", err)
	}
	if _, err := st.Transaction(t.Context(), tr.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled InOneCommit, Transaction = %v, want ErrNotFound", err)
	}
}

// inOneCommitKeepsSingleUseUnderConcurrency races UseOnce of one id inside
// InOneCommit calls, each with another write, against plain UseOnce calls:
// exactly one wins, and only the winner's other write is kept.
func (s suite) inOneCommitKeepsSingleUseUnderConcurrency(t *testing.T) {
	st := s.newStore(t)
	c := oneCommitter(t, st)
	const rounds, callers = 5, 16
	for round := range rounds {
		id := fmt.Sprintf("proof-race-%d", round)
		var wins atomic.Int32
		winner := make([]bool, callers)
		parallel(callers, func(i int) {
			if i%2 == 0 {
				ok, err := st.UseOnce(t.Context(), id, base.Add(time.Hour))
				if err != nil {
					t.Errorf("UseOnce: %v", err)
				}
				if ok {
					wins.Add(1)
				}
				return
			}
			err := c.InOneCommit(t.Context(), func(ctx context.Context) error {
				ok, err := st.UseOnce(ctx, id, base.Add(time.Hour))
				if err != nil || !ok {
					return err
				}
				winner[i] = true
				return st.CreateTransaction(ctx, testTransaction(round*callers+i, "alice"))
			})
			if err != nil {
				t.Errorf("InOneCommit: %v", err)
			}
			if winner[i] {
				wins.Add(1)
			}
		})
		if t.Failed() {
			return
		}
		if n := wins.Load(); n != 1 {
			t.Fatalf("round %d: %d of %d concurrent uses of one id won, want exactly 1", round, n, callers)
		}
		for i := 1; i < callers; i += 2 {
			_, err := st.Transaction(t.Context(), testTransaction(round*callers+i, "alice").ID)
			if winner[i] != (err == nil) {
				t.Errorf("round %d, caller %d: won %v, its transaction stored: %v", round, i, winner[i], err == nil)
			}
		}
	}
}
