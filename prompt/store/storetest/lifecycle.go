package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

func (s suite) pingSucceedsOnOpenStore(t *testing.T) {
	st := s.newStore(t)
	if err := st.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func (s suite) closeMakesStoreUnusable(t *testing.T) {
	st := s.open(t)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := st.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded, want an error")
	}
	if _, err := st.AppendAuthLog(t.Context(), fullEntry()); err == nil {
		t.Error("AppendAuthLog after Close succeeded, want an error")
	}
}

// returnsWithin fails t if call does not return within a generous bound, so
// that a hang shows up as a failure naming the call rather than as the whole
// test binary timing out.
func returnsWithin(t *testing.T, name string, call func() error) error {
	t.Helper()
	result := make(chan error, 1)
	go func() { result <- call() }()
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case err := <-result:
		return err
	case <-timer.C:
		t.Fatalf("%s with a canceled context did not return", name)
		return nil
	}
}

func (s suite) canceledContextReturnsErrorAndChangesNothing(t *testing.T) {
	st := s.newStore(t)
	canceled := canceledContext()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"CookieKeys", func(ctx context.Context) error {
			_, err := st.CookieKeys(ctx)
			return err
		}},
		{"InitCookieKeys", func(ctx context.Context) error {
			_, err := st.InitCookieKeys(ctx, testKey(1, base))
			return err
		}},
		{"AddCookieKey", func(ctx context.Context) error {
			return st.AddCookieKey(ctx, testKey(2, base))
		}},
		{"AddFailure", func(ctx context.Context) error {
			return st.AddFailure(ctx, "login:alice", base)
		}},
		{"CountFailures", func(ctx context.Context) error {
			_, err := st.CountFailures(ctx, "login:alice", time.Time{})
			return err
		}},
		{"ClearFailures", func(ctx context.Context) error {
			return st.ClearFailures(ctx, "login:alice")
		}},
		{"UseOnce", func(ctx context.Context) error {
			_, err := st.UseOnce(ctx, "state-1", base.Add(time.Hour))
			return err
		}},
		{"AppendAuthLog", func(ctx context.Context) error {
			_, err := st.AppendAuthLog(ctx, fullEntry())
			return err
		}},
		{"QueryAuthLog", func(ctx context.Context) error {
			_, err := st.QueryAuthLog(ctx, store.AuthLogQuery{})
			return err
		}},
		{"Purge", func(ctx context.Context) error {
			return st.Purge(ctx, base)
		}},
		{"Ping", func(ctx context.Context) error {
			return st.Ping(ctx)
		}},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			err := returnsWithin(t, c.name, func() error { return c.call(canceled) })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", c.name, err)
			}
		})
	}

	// None of the canceled writes may have happened.
	ctx := t.Context()
	if keys, err := st.CookieKeys(ctx); err != nil || len(keys) != 0 {
		t.Errorf("after canceled writes, CookieKeys = %v, %v; want none", keyIDs(keys), err)
	}
	if n, err := st.CountFailures(ctx, "login:alice", time.Time{}); err != nil || n != 0 {
		t.Errorf("after a canceled AddFailure, CountFailures = %d, %v; want 0", n, err)
	}
	if ok, err := st.UseOnce(ctx, "state-1", base.Add(time.Hour)); err != nil || !ok {
		t.Errorf("after a canceled UseOnce, UseOnce = %v, %v; want true (id not consumed)", ok, err)
	}
	if entries, err := st.QueryAuthLog(ctx, store.AuthLogQuery{}); err != nil || len(entries) != 0 {
		t.Errorf("after a canceled AppendAuthLog, QueryAuthLog = %v, %v; want no entries", entryIDs(entries), err)
	}
}
