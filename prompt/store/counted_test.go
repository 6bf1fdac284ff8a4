package store_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// TestCountedCountsEveryMethod calls each method of a counted store once,
// with zero arguments (most then fail, which is fine), and checks that each
// call was counted and reached the real store.
func TestCountedCountsEveryMethod(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls atomic.Int64
	counted := store.Counted(st, func() { calls.Add(1) })
	v := reflect.ValueOf(counted)
	iface := reflect.TypeFor[store.Store]()
	for i := range iface.NumMethod() {
		m := iface.Method(i)
		if m.Name == "Close" {
			continue // last, below
		}
		fn := v.MethodByName(m.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(fn.Type().In(j))
			if fn.Type().In(j) == reflect.TypeFor[context.Context]() {
				args[j] = reflect.ValueOf(context.Background())
			}
		}
		before := calls.Load()
		func() {
			defer func() {
				// A zero argument may make the store itself panic (a
				// nil function); the call was still counted first.
				_ = recover()
			}()
			fn.Call(args)
		}()
		if got := calls.Load() - before; got != 1 {
			t.Errorf("%s counted %d times, want 1", m.Name, got)
		}
	}
	before := calls.Load()
	if err := counted.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if calls.Load() != before+1 {
		t.Error("Close was not counted")
	}
	if _, err := st.CookieKeys(context.Background()); err == nil {
		t.Error("the wrapped store is still open after the counted store's Close")
	}
}

// TestCountedKeepsEvents: a store that carries events still does once
// counted, and one that does not, still does not.
func TestCountedKeepsEvents(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var calls atomic.Int64
	if _, ok := store.Counted(st, func() { calls.Add(1) }).(store.Notifier); ok {
		t.Error("a counted SQLite store claims to carry events; SQLite does not")
	}
	var withEvents struct {
		store.Store
		store.Notifier
	}
	withEvents.Store = st
	if _, ok := store.Counted(withEvents, func() { calls.Add(1) }).(store.Notifier); !ok {
		t.Error("a counted store that carries events no longer does")
	}
}

// oneCommitStore is a store whose InOneCommit records that it ran.
type oneCommitStore struct {
	store.Store
	ran bool
}

func (s *oneCommitStore) InOneCommit(ctx context.Context, fn func(ctx context.Context) error) error {
	s.ran = true
	return fn(ctx)
}

// TestInOneCommitLooksThroughCounted: a counted store runs InOneCommit in
// the one commit of the store it counts for, however deep the wrapping,
// and a store without one just calls fn.
func TestInOneCommitLooksThroughCounted(t *testing.T) {
	inner := &oneCommitStore{}
	wrapped := store.Counted(store.Counted(inner, func() {}), func() {})
	called := false
	err := store.InOneCommit(t.Context(), wrapped, func(context.Context) error { called = true; return nil })
	if err != nil || !called || !inner.ran {
		t.Errorf("InOneCommit through two counted stores: err %v, fn called %v, inner commit ran %v; want nil, true, true", err, called, inner.ran)
	}
	var plain struct{ store.Store }
	called = false
	err = store.InOneCommit(t.Context(), store.Counted(plain, func() {}), func(context.Context) error { called = true; return nil })
	if err != nil || !called {
		t.Errorf("InOneCommit on a counted store without one commit: err %v, fn called %v; want nil, true", err, called)
	}
}
