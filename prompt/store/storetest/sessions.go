package storetest

import (
	"maps"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// sessionRevocations runs the cases of SessionRevocationStore.
func (s suite) sessionRevocations(t *testing.T) {
	t.Run("ListUnexpiredRevocations", s.sessionRevocationsListUnexpiredRevocations)
	t.Run("RevokeUserSessionsKeepsLatestCutoff", s.revokeUserSessionsKeepsLatestCutoff)
	t.Run("PurgeForgetsExpiredRevocations", s.purgeForgetsExpiredSessionRevocations)
}

func (s suite) sessionRevocationsListUnexpiredRevocations(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if r, err := st.SessionRevocations(ctx, base); err != nil || len(r.Sessions) != 0 || len(r.Users) != 0 {
		t.Fatalf("SessionRevocations of a new store = %+v, %v; want none", r, err)
	}
	for id, expires := range map[string]time.Time{"s1": base.Add(time.Hour), "s2": base.Add(2 * time.Hour)} {
		if err := st.RevokeSession(ctx, id, expires); err != nil {
			t.Fatalf("RevokeSession %s: %v", id, err)
		}
	}
	// Revoked twice: the later expiry counts.
	if err := st.RevokeSession(ctx, "s1", base.Add(time.Minute)); err != nil {
		t.Fatalf("RevokeSession s1 again: %v", err)
	}
	if err := st.RevokeUserSessions(ctx, "alice", base, base.Add(8*time.Hour)); err != nil {
		t.Fatalf("RevokeUserSessions: %v", err)
	}
	got, err := st.SessionRevocations(ctx, base)
	if err != nil {
		t.Fatalf("SessionRevocations: %v", err)
	}
	wantSessions := map[string]time.Time{"s1": base.Add(time.Hour), "s2": base.Add(2 * time.Hour)}
	if !maps.EqualFunc(got.Sessions, wantSessions, time.Time.Equal) {
		t.Errorf("Sessions = %v, want %v", got.Sessions, wantSessions)
	}
	if c := got.Users["alice"]; len(got.Users) != 1 || !c.Before.Equal(base) || !c.Expires.Equal(base.Add(8*time.Hour)) {
		t.Errorf("Users = %v, want alice before %v until %v", got.Users, base, base.Add(8*time.Hour))
	}
	// At its expiry a revocation is no longer listed.
	got, err = st.SessionRevocations(ctx, base.Add(time.Hour))
	if err != nil {
		t.Fatalf("SessionRevocations an hour later: %v", err)
	}
	if _, ok := got.Sessions["s1"]; ok || len(got.Sessions) != 1 {
		t.Errorf("an hour later Sessions = %v, want only s2", got.Sessions)
	}
	got, err = st.SessionRevocations(ctx, base.Add(8*time.Hour))
	if err != nil {
		t.Fatalf("SessionRevocations 8h later: %v", err)
	}
	if len(got.Sessions) != 0 || len(got.Users) != 0 {
		t.Errorf("8h later = %+v, want none", got)
	}
}

func (s suite) revokeUserSessionsKeepsLatestCutoff(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	steps := []struct{ before, expires time.Time }{
		{base.Add(time.Hour), base.Add(9 * time.Hour)},
		{base, base.Add(10 * time.Hour)}, // an earlier cutoff keeps the later one
	}
	for i, step := range steps {
		if err := st.RevokeUserSessions(ctx, "alice", step.before, step.expires); err != nil {
			t.Fatalf("RevokeUserSessions %d: %v", i, err)
		}
	}
	if err := st.RevokeUserSessions(ctx, "bob", base, base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeUserSessions bob: %v", err)
	}
	got, err := st.SessionRevocations(ctx, base)
	if err != nil {
		t.Fatalf("SessionRevocations: %v", err)
	}
	want := map[string]store.UserCutoff{
		"alice": {Before: base.Add(time.Hour), Expires: base.Add(10 * time.Hour)},
		"bob":   {Before: base, Expires: base.Add(time.Hour)},
	}
	if !maps.EqualFunc(got.Users, want, func(a, b store.UserCutoff) bool {
		return a.Before.Equal(b.Before) && a.Expires.Equal(b.Expires)
	}) {
		t.Errorf("Users = %v, want %v", got.Users, want)
	}
}

func (s suite) purgeForgetsExpiredSessionRevocations(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if err := st.RevokeSession(ctx, "old", base); err != nil {
		t.Fatalf("RevokeSession old: %v", err)
	}
	if err := st.RevokeSession(ctx, "new", base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeSession new: %v", err)
	}
	if err := st.RevokeUserSessions(ctx, "old-user", base.Add(-time.Hour), base); err != nil {
		t.Fatalf("RevokeUserSessions old-user: %v", err)
	}
	if err := st.RevokeUserSessions(ctx, "new-user", base, base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeUserSessions new-user: %v", err)
	}
	if err := st.Purge(ctx, base.Add(time.Microsecond)); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	// Asked about a time long before, only what Purge kept can show up.
	got, err := st.SessionRevocations(ctx, base.Add(-24*time.Hour))
	if err != nil {
		t.Fatalf("SessionRevocations: %v", err)
	}
	if _, ok := got.Sessions["new"]; !ok || len(got.Sessions) != 1 {
		t.Errorf("after Purge Sessions = %v, want only new", got.Sessions)
	}
	if _, ok := got.Users["new-user"]; !ok || len(got.Users) != 1 {
		t.Errorf("after Purge Users = %v, want only new-user", got.Users)
	}
}

func (s sharedSuite) sessionRevokedOnOneInstanceIsRevokedOnOther(t *testing.T) {
	a, b := s.newPair(t)
	ctx := t.Context()
	if err := a.RevokeSession(ctx, "s1", base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeSession on a: %v", err)
	}
	if err := b.RevokeUserSessions(ctx, "alice", base, base.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeUserSessions on b: %v", err)
	}
	for name, h := range map[string]store.Store{"a": a, "b": b} {
		got, err := h.SessionRevocations(ctx, base)
		if err != nil {
			t.Fatalf("SessionRevocations on %s: %v", name, err)
		}
		if _, ok := got.Sessions["s1"]; !ok {
			t.Errorf("on %s Sessions = %v, want s1", name, got.Sessions)
		}
		if c, ok := got.Users["alice"]; !ok || !c.Before.Equal(base) {
			t.Errorf("on %s Users = %v, want alice before %v", name, got.Users, base)
		}
	}
}
