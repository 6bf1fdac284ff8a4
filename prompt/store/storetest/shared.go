package storetest

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

func (s sharedSuite) initCookieKeysAgreesAcrossInstances(t *testing.T) {
	// The race is between instances starting at once on an empty database,
	// so run it on several new databases, with several callers per handle,
	// to give a check-then-insert backend more chances to lose.
	const rounds, callers = 10, 6
	for round := range rounds {
		a, b := s.newPair(t)
		handles := []store.Store{a, b}
		results := make([][]store.CookieKey, callers)
		errs := make([]error, callers)
		parallel(callers, func(i int) {
			results[i], errs[i] = handles[i%2].InitCookieKeys(t.Context(), testKey(i+1, base))
		})
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: InitCookieKeys %d: %v", round, i, err)
			}
		}
		if len(results[0]) != 1 {
			t.Fatalf("round %d: InitCookieKeys 0 got %d keys %v, want exactly 1", round, len(results[0]), keyIDs(results[0]))
		}
		winner := results[0][0]
		if !strings.HasPrefix(winner.ID, "key-") {
			t.Fatalf("round %d: stored key %q is not a candidate", round, winner.ID)
		}
		for i := 1; i < callers; i++ {
			checkKeys(t, results[i], winner)
		}
		for i, h := range handles {
			stored, err := h.CookieKeys(t.Context())
			if err != nil {
				t.Fatalf("round %d: CookieKeys on instance %d: %v", round, i, err)
			}
			checkKeys(t, stored, winner)
		}
	}
}

func (s sharedSuite) addCookieKeyIsSeenByOtherInstance(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	k1, k2 := testKey(1, base), testKey(2, base.Add(time.Hour))
	if _, err := a.InitCookieKeys(ctx, k1); err != nil {
		t.Fatalf("InitCookieKeys on a: %v", err)
	}
	if err := b.AddCookieKey(ctx, k2); err != nil {
		t.Fatalf("AddCookieKey on b: %v", err)
	}
	got, err := a.CookieKeys(ctx)
	if err != nil {
		t.Fatalf("CookieKeys on a: %v", err)
	}
	checkKeys(t, got, k2, k1)
}

func (s sharedSuite) lockoutHoldsAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	const key = "login:alice|192.0.2.1"
	for i, h := range []store.Store{a, b, a, b, b} {
		if err := h.AddFailure(ctx, key, base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("AddFailure %d: %v", i, err)
		}
	}
	for name, h := range map[string]store.Store{"a": a, "b": b} {
		n, err := h.CountFailures(ctx, key, base)
		if err != nil {
			t.Fatalf("CountFailures on %s: %v", name, err)
		}
		if n != 5 {
			t.Errorf("CountFailures on %s = %d, want 5 (failures from both instances)", name, n)
		}
	}
	if err := b.ClearFailures(ctx, key); err != nil {
		t.Fatalf("ClearFailures on b: %v", err)
	}
	n, err := a.CountFailures(ctx, key, time.Time{})
	if err != nil {
		t.Fatalf("CountFailures on a: %v", err)
	}
	if n != 0 {
		t.Errorf("after ClearFailures on b, CountFailures on a = %d, want 0", n)
	}
}

func (s sharedSuite) useOnceIsSingleUseAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	raceUseOnce(t, []store.Store{a, b})
}

func (s sharedSuite) purgeOnOneInstanceFreesIDForOther(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	if ok, err := a.UseOnce(ctx, "state-1", base); err != nil || !ok {
		t.Fatalf("UseOnce on a = %v, %v; want true, nil", ok, err)
	}
	if ok, err := b.UseOnce(ctx, "state-1", base); err != nil || ok {
		t.Fatalf("UseOnce of the same id on b = %v, %v; want false, nil", ok, err)
	}
	if err := b.Purge(ctx, base.Add(time.Second)); err != nil {
		t.Fatalf("Purge on b: %v", err)
	}
	if ok, err := a.UseOnce(ctx, "state-1", base.Add(time.Hour)); err != nil || !ok {
		t.Errorf("UseOnce on a after Purge on b = %v, %v; want true, nil", ok, err)
	}
}

func (s sharedSuite) authLogIsSharedAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	handles := []store.Store{a, b}
	const n = 10
	ids := make([]int64, n)
	errs := make([]error, n)
	parallel(n, func(i int) {
		e := fullEntry()
		e.Time = base.Add(time.Duration(i) * time.Second)
		ids[i], errs[i] = handles[i%2].AppendAuthLog(t.Context(), e)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("AppendAuthLog %d: %v", i, err)
		}
	}
	want := slices.Clone(ids)
	slices.Sort(want)
	if len(slices.Compact(slices.Clone(want))) != n {
		t.Fatalf("concurrent appends on two instances returned duplicate IDs %v", ids)
	}
	slices.Reverse(want)
	for i, h := range handles {
		got, err := h.QueryAuthLog(t.Context(), store.AuthLogQuery{})
		if err != nil {
			t.Fatalf("QueryAuthLog on instance %d: %v", i, err)
		}
		if !slices.Equal(entryIDs(got), want) {
			t.Errorf("QueryAuthLog on instance %d IDs = %v, want every append from both, newest first: %v",
				i, entryIDs(got), want)
		}
	}
}

func (s sharedSuite) consumeActivationIsSingleUseAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	raceConsumeActivation(t, []store.Store{a, b})
}

func (s sharedSuite) transitionTransactionHasOneWinnerAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	raceTransitionTransaction(t, []store.Store{a, b})
}

func (s sharedSuite) answerPushHasOneWinnerAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	raceAnswerPush(t, []store.Store{a, b})
}

// An admin revokes on one instance; the phone talks to another.
func (s sharedSuite) deviceRevokedOnOneInstanceIsRevokedOnOther(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	d := newDevice(1, "alice", base)
	createDevices(t, a, d)
	if err := b.RevokeDevice(ctx, d.ID, base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeDevice on b: %v", err)
	}
	got := storedDevice(t, a, d.ID)
	if got.Active() {
		t.Error("device revoked on b is still active on a")
	}
	if err := a.CreateDevice(ctx, d); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateDevice on a of a device created on a = %v, want ErrConflict", err)
	}
}

// The browser's instance creates the push; the phone's instance lists and
// answers it; the browser's instance sees the answer.
func (s sharedSuite) pushCreatedOnOneInstanceIsAnsweredOnOther(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	p := testPush(1, "thumbprint-1", base)
	createPushes(t, a, p)
	pending, err := b.PendingPushes(ctx, p.DeviceID, base)
	if err != nil {
		t.Fatalf("PendingPushes on b: %v", err)
	}
	if !slices.Equal(pushIDs(pending), []string{p.ID}) {
		t.Fatalf("PendingPushes on b = %v, want [%s]", pushIDs(pending), p.ID)
	}
	if _, err := b.AnswerPush(ctx, p.ID, p.DeviceID, store.PushApproved, "", base); err != nil {
		t.Fatalf("AnswerPush on b: %v", err)
	}
	if got := storedPush(t, a, p.ID); got.State != store.PushApproved {
		t.Errorf("push answered on b is %s on a, want %s", got.State, store.PushApproved)
	}
}
