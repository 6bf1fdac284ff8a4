package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

func (s suite) closeMakesStoreUnusable(t *testing.T) {
	st := s.open(t)
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
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

func (s suite) canceledContextLeavesDeviceRecordsUnchanged(t *testing.T) {
	st := s.newStore(t)
	d := newDevice(1, "alice", base)
	a := testActivation(1, "alice")
	tr := testTransaction(1, "alice")
	p := testPush(1, d.ID, base)
	createDevices(t, st, d)
	createActivations(t, st, a)
	createTransactions(t, st, tr)
	createPushes(t, st, p)

	now := base.Add(time.Second)
	canceled := canceledContext()
	for _, c := range deviceRecordCalls(st, d, a, tr, p, now) {
		t.Run(c.name, func(t *testing.T) {
			err := returnsWithin(t, c.name, func() error { return c.call(canceled) })
			if !errors.Is(err, context.Canceled) {
				t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", c.name, err)
			}
		})
	}
	// None of the canceled writes may have happened.
	checkDeviceRecordsUnchanged(t, st, d, a, tr, p, now)
}

// namedCall is one store call, made with the context it is given.
type namedCall struct {
	name string
	call func(ctx context.Context) error
}

// deviceRecordCalls are a call of every method that reads or writes the
// device records d, a, tr and p (or new ones beside them), at now.
func deviceRecordCalls(st store.Store, d store.Device, a store.Activation, tr store.Transaction, p store.Push, now time.Time) []namedCall {
	return []namedCall{
		{"CreateActivation", func(ctx context.Context) error {
			return st.CreateActivation(ctx, testActivation(2, "alice"))
		}},
		{"ConsumeActivation", func(ctx context.Context) error {
			_, err := st.ConsumeActivation(ctx, a.CodeHash, now)
			return err
		}},
		{"CreateDevice", func(ctx context.Context) error {
			return st.CreateDevice(ctx, newDevice(2, "alice", base))
		}},
		{"Device", func(ctx context.Context) error {
			_, err := st.Device(ctx, d.ID)
			return err
		}},
		{"UserDevices", func(ctx context.Context) error {
			_, err := st.UserDevices(ctx, d.User)
			return err
		}},
		{"RecordHealth", func(ctx context.Context) error {
			return st.RecordHealth(ctx, d.ID, json.RawMessage(`{"screen_lock":true}`), "trusted", now)
		}},
		{"RevokeDevice", func(ctx context.Context) error {
			return st.RevokeDevice(ctx, d.ID, now)
		}},
		{"CreateTransaction", func(ctx context.Context) error {
			return st.CreateTransaction(ctx, testTransaction(2, "alice"))
		}},
		{"Transaction", func(ctx context.Context) error {
			_, err := st.Transaction(ctx, tr.ID)
			return err
		}},
		{"TransitionTransaction", func(ctx context.Context) error {
			_, err := st.TransitionTransaction(ctx, tr.ID, store.TransactionPending, store.TransactionReported, d.ID, nil, now)
			return err
		}},
		{"CreatePush", func(ctx context.Context) error {
			return st.CreatePush(ctx, testPush(2, d.ID, base))
		}},
		{"Push", func(ctx context.Context) error {
			_, err := st.Push(ctx, p.ID)
			return err
		}},
		{"PendingPushes", func(ctx context.Context) error {
			_, err := st.PendingPushes(ctx, d.ID, now)
			return err
		}},
		{"AnswerPush", func(ctx context.Context) error {
			_, err := st.AnswerPush(ctx, p.ID, d.ID, store.PushApproved, "", now)
			return err
		}},
	}
}

// checkDeviceRecordsUnchanged fails t unless d, a, tr and p are as they
// were created and none of the records deviceRecordCalls creates exists.
func checkDeviceRecordsUnchanged(t *testing.T, st store.Store, d store.Device, a store.Activation, tr store.Transaction, p store.Push, now time.Time) {
	t.Helper()
	ctx := t.Context()
	checkDevice(t, storedDevice(t, st, d.ID), d)
	checkTransaction(t, storedTransaction(t, st, tr.ID), tr)
	checkPush(t, storedPush(t, st, p.ID), p)
	if _, err := st.Device(ctx, "thumbprint-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled CreateDevice, Device = %v, want ErrNotFound", err)
	}
	if _, err := st.Transaction(ctx, "txn-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled CreateTransaction, Transaction = %v, want ErrNotFound", err)
	}
	if _, err := st.Push(ctx, "push-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled CreatePush, Push = %v, want ErrNotFound", err)
	}
	if _, err := st.ConsumeActivation(ctx, "sha256:code-2", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after a canceled CreateActivation, ConsumeActivation = %v, want ErrNotFound", err)
	}
	if _, err := st.ConsumeActivation(ctx, a.CodeHash, now); err != nil {
		t.Errorf("after a canceled ConsumeActivation, ConsumeActivation = %v, want the code still usable", err)
	}
}

func (s suite) purgeRemovesExpiredActivationsTransactionsAndPushes(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	// Each kind has one record that expired a microsecond before the cutoff
	// (purged) and one that expires exactly at it (kept).
	expiring := func(n int, expires time.Time) (store.Activation, store.Transaction, store.Push) {
		a, tr, p := testActivation(n, "alice"), testTransaction(n, "alice"), testPush(n, "thumbprint-1", base.Add(-time.Hour))
		a.Created, tr.Created = base.Add(-time.Hour), base.Add(-time.Hour)
		a.Expires, tr.Expires, p.Expires = expires, expires, expires
		return a, tr, p
	}
	goneA, goneT, goneP := expiring(1, base.Add(-time.Microsecond))
	keptA, keptT, keptP := expiring(2, base)
	// Purge also removes records no longer pending.
	goneT.State = store.TransactionCompleted
	goneP.State = store.PushApproved
	d := newDevice(1, "alice", base.Add(-48*time.Hour))
	createDevices(t, st, d)
	createActivations(t, st, goneA, keptA)
	createTransactions(t, st, goneT, keptT)
	createPushes(t, st, goneP, keptP)

	if err := st.Purge(ctx, base); err != nil {
		t.Fatalf("Purge: %v", err)
	}

	if _, err := st.Transaction(ctx, goneT.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Transaction that expired before the cutoff = %v, want ErrNotFound after Purge", err)
	}
	if _, err := st.Push(ctx, goneP.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Push that expired before the cutoff = %v, want ErrNotFound after Purge", err)
	}
	checkTransaction(t, storedTransaction(t, st, keptT.ID), keptT)
	checkPush(t, storedPush(t, st, keptP.ID), keptP)
	// An activation can only be observed by consuming it; consuming it with
	// an earlier clock tells a purged code from an expired one.
	early := base.Add(-time.Minute)
	if _, err := st.ConsumeActivation(ctx, goneA.CodeHash, early); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ConsumeActivation of a code that expired before the cutoff = %v, want ErrNotFound after Purge", err)
	}
	if _, err := st.ConsumeActivation(ctx, keptA.CodeHash, early); err != nil {
		t.Errorf("ConsumeActivation of a code that expires at the cutoff: %v, want it kept by Purge", err)
	}
	// Devices do not expire.
	checkDevice(t, storedDevice(t, st, d.ID), d)
}
