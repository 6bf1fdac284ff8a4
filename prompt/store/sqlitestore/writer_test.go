package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

func TestWriterConnectionUsesDurableSettings(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	var synchronous, busy, foreignKeys, checkpoint int
	var journal string
	err := s.writes.do(t.Context(), func(ctx context.Context, tx *writeTx) error {
		for _, p := range []struct {
			pragma string
			dest   any
		}{
			{"journal_mode", &journal},
			{"synchronous", &synchronous},
			{"busy_timeout", &busy},
			{"foreign_keys", &foreignKeys},
			{"wal_autocheckpoint", &checkpoint},
		} {
			if err := tx.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.dest); err != nil {
				return fmt.Errorf("PRAGMA %s: %w", p.pragma, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const full = 2
	if journal != "wal" || synchronous != full || busy != int(busyTimeout.Milliseconds()) || foreignKeys != 1 || checkpoint != checkpointPages {
		t.Errorf("writer: journal_mode=%s synchronous=%d busy_timeout=%d foreign_keys=%d wal_autocheckpoint=%d; want wal, 2 (FULL), %d, 1, %d",
			journal, synchronous, busy, foreignKeys, checkpoint, busyTimeout.Milliseconds(), checkpointPages)
	}
}

// TestFailedWritesDoNotSpoilTheirGroup writes many records at once, half of
// them with a key already stored: the writer commits them in groups, and
// each duplicate fails alone while every other write of its group is kept.
func TestFailedWritesDoNotSpoilTheirGroup(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	const n = 200
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	tx := func(i int) store.Transaction {
		return store.Transaction{ID: fmt.Sprintf("tx-%d", i), User: "alice", Created: now, Expires: now.Add(time.Hour)}
	}
	for i := 0; i < n; i += 2 {
		if err := s.CreateTransaction(ctx, tx(i)); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = s.CreateTransaction(ctx, tx(i)) })
	}
	wg.Wait()
	for i, err := range errs {
		if i%2 == 0 && !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateTransaction of stored %s = %v, want ErrConflict", tx(i).ID, err)
		}
		if i%2 == 1 && err != nil {
			t.Errorf("CreateTransaction of new %s = %v, want nil", tx(i).ID, err)
		}
	}
	// Every acknowledged write is in the file, for a new handle to read.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i := range n {
		if _, err := s2.Transaction(ctx, tx(i).ID); err != nil {
			t.Errorf("after reopening, Transaction(%s): %v", tx(i).ID, err)
		}
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseOnce(t.Context(), "x", time.Now().Add(time.Hour)); err == nil {
		t.Error("UseOnce on a closed store succeeded")
	}
}
