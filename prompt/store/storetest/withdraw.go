package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// withdrawPushesLeavesOnlyTheAnswer: one login request sent to three
// devices; the first device answers, the other two copies are withdrawn
// (no longer listed, no longer answerable), and the answered push and
// unrelated pushes are left alone.
func (s suite) withdrawPushesLeavesOnlyTheAnswer(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	now := base.Add(time.Second)
	copies := []store.Push{testPush(1, "thumbprint-1", base), testPush(2, "thumbprint-2", base), testPush(3, "thumbprint-3", base)}
	for i := range copies {
		copies[i].TransactionID = "txn-shared"
	}
	unrelated := testPush(4, "thumbprint-2", base)
	createPushes(t, st, append(slices.Clone(copies), unrelated)...)
	if _, err := st.AnswerPush(ctx, copies[0].ID, copies[0].DeviceID, store.PushApproved, "", now); err != nil {
		t.Fatalf("AnswerPush: %v", err)
	}
	n, err := st.WithdrawPushes(ctx, append(pushIDs(copies), "push-unknown"))
	if err != nil {
		t.Fatalf("WithdrawPushes: %v", err)
	}
	if n != 2 {
		t.Errorf("WithdrawPushes moved %d pushes, want 2", n)
	}
	answered := copies[0]
	answered.State = store.PushApproved
	checkPush(t, storedPush(t, st, answered.ID), answered)
	for _, p := range copies[1:] {
		want := p
		want.State, want.Answer = store.PushDenied, store.PushWithdrawn
		checkPush(t, storedPush(t, st, p.ID), want)
		pending, err := st.PendingPushes(ctx, p.DeviceID, now)
		if err != nil {
			t.Fatalf("PendingPushes: %v", err)
		}
		if slices.Contains(pushIDs(pending), p.ID) {
			t.Errorf("withdrawn %s still listed for %s: %v", p.ID, p.DeviceID, pushIDs(pending))
		}
		if _, err := st.AnswerPush(ctx, p.ID, p.DeviceID, store.PushApproved, "", now); !errors.Is(err, store.ErrConflict) {
			t.Errorf("answering withdrawn %s = %v, want ErrConflict", p.ID, err)
		}
	}
	checkPush(t, storedPush(t, st, unrelated.ID), unrelated)
	// Again, or with nothing to withdraw: nothing moves.
	for _, ids := range [][]string{pushIDs(copies), nil} {
		if n, err := st.WithdrawPushes(ctx, ids); err != nil || n != 0 {
			t.Errorf("WithdrawPushes(%v) again = %d, %v; want 0, nil", ids, n, err)
		}
	}
}
