package session

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

func TestRevocationsRefuseRevokedSessionsAndUsersCutoff(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	r := NewRevocations()
	r.noteLifetime(8 * time.Hour)
	r.addSession("s-revoked", now.Add(time.Hour))
	cutoff := now.Add(500 * time.Millisecond)
	r.ApplyEvent(store.Event{Kind: store.EventUserSessionsRevoked, ID: "alice", Time: cutoff})

	for _, tc := range []struct {
		name    string
		session Session
		want    bool
	}{
		{"revoked id", Session{Identity: Identity{User: "bob"}, ID: "s-revoked"}, true},
		{"other id", Session{Identity: Identity{User: "bob"}, ID: "s-other", IssuedAtMilli: now.UnixMilli()}, false},
		{"user's session before cutoff", Session{Identity: Identity{User: "alice"}, ID: "a1", IssuedAtMilli: cutoff.UnixMilli() - 1}, true},
		{"user's session at cutoff", Session{Identity: Identity{User: "alice"}, ID: "a2", IssuedAtMilli: cutoff.UnixMilli()}, false},
		{"user's session after cutoff in the same second", Session{Identity: Identity{User: "alice"}, ID: "a3", IssuedAtMilli: now.Add(900 * time.Millisecond).UnixMilli()}, false},
		// A cookie without milliseconds counts from the start of its second.
		{"old cookie in the cutoff's second", Session{Identity: Identity{User: "alice"}, ID: "a4", IssuedAt: now.Unix()}, true},
		{"old cookie after the cutoff's second", Session{Identity: Identity{User: "alice"}, ID: "a5", IssuedAt: now.Unix() + 1}, false},
	} {
		if got := r.Revoked(&tc.session); got != tc.want {
			t.Errorf("%s: Revoked = %v, want %v", tc.name, got, tc.want)
		}
	}

	// An earlier cutoff never moves a later one back.
	r.ApplyEvent(store.Event{Kind: store.EventUserSessionsRevoked, ID: "alice", Time: now.Add(-time.Hour)})
	if !r.Revoked(&Session{Identity: Identity{User: "alice"}, ID: "a6", IssuedAtMilli: cutoff.UnixMilli() - 1}) {
		t.Error("an earlier cutoff moved the later one back")
	}
	if r.ApplyEvent(store.Event{Kind: store.EventPush, ID: "dev"}) {
		t.Error("ApplyEvent took a push event for a revocation")
	}

	// Once the sessions have expired, the entries go.
	prune := func(at time.Time) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.pruneLocked(at)
	}
	prune(now.Add(time.Hour + time.Second))
	if s, u := r.Len(); s != 0 || u != 1 {
		t.Errorf("an hour later Len = %d sessions, %d users; want 0, 1", s, u)
	}
	prune(cutoff.Add(8*time.Hour + time.Second))
	if s, u := r.Len(); s != 0 || u != 0 {
		t.Errorf("after the longest lifetime Len = %d sessions, %d users; want 0, 0", s, u)
	}
}

func TestRevocationsRefreshMergesStoreAndStoresWhatFailed(t *testing.T) {
	ctx := t.Context()
	st := &storetest.RevocationOutage{Store: openRevocationStore(t)}
	now := time.Now()
	// Another instance revoked s-remote.
	if err := st.Store.RevokeSession(ctx, "s-remote", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := NewRevocations()
	st.Down.Store(true)
	if err := r.RevokeSession(ctx, st, "s-local", now.Add(time.Hour)); err == nil || IsStoredButNotAnnounced(err) {
		t.Fatalf("RevokeSession with storage down = %v, want the store's error", err)
	}
	if !r.Revoked(&Session{ID: "s-local"}) {
		t.Fatal("a revocation whose store failed does not hold locally")
	}
	if err := r.Refresh(ctx, st, now); err == nil {
		t.Fatal("Refresh with storage down succeeded")
	}
	st.Down.Store(false)
	if err := r.Refresh(ctx, st, now); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if !r.Revoked(&Session{ID: "s-remote"}) {
		t.Error("Refresh did not merge the store's revocation")
	}
	stored, err := st.SessionRevocations(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := stored.Sessions["s-local"]; !ok {
		t.Errorf("Refresh did not store the revocation made while storage was down: %v", stored.Sessions)
	}
}

func BenchmarkRevocationCheck(b *testing.B) {
	r := NewRevocations()
	expires := time.Now().Add(time.Hour)
	for i := range 100000 {
		r.addSession(fmt.Sprintf("session-%d", i), expires)
	}
	for i := range 10000 {
		r.addUser(fmt.Sprintf("user-%d", i), time.Now(), expires)
	}
	s := &Session{Identity: Identity{User: "alice"}, ID: secret.Token(), IssuedAtMilli: time.Now().UnixMilli()}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if r.Revoked(s) {
				b.Fatal("revoked")
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if r.Revoked(s) {
					b.Fatal("revoked")
				}
			}
		})
	})
}

func openRevocationStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
