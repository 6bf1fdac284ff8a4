package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// providerSessions runs the cases of ProviderSessionStore.
func (s suite) providerSessions(t *testing.T) {
	t.Run("PutReadReplaceDelete", s.providerSessionsPutReadReplaceDelete)
	t.Run("PurgeForgetsExpired", s.purgeForgetsExpiredProviderSessions)
}

func (s suite) providerSessionsPutReadReplaceDelete(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if _, err := st.ProviderSession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ProviderSession of an unknown session: %v, want ErrNotFound", err)
	}
	first := store.ProviderSession{SessionID: "s1", Tokens: "opaque-1", Expires: base.Add(8 * time.Hour)}
	other := store.ProviderSession{SessionID: "s2", Tokens: "opaque-2", Expires: base.Add(time.Hour)}
	for _, ps := range []store.ProviderSession{first, other} {
		if err := st.PutProviderSession(ctx, ps); err != nil {
			t.Fatalf("PutProviderSession %s: %v", ps.SessionID, err)
		}
	}
	if got, err := st.ProviderSession(ctx, "s1"); err != nil || got != first {
		t.Fatalf("ProviderSession s1 = %+v, %v; want %+v", got, err, first)
	}
	replaced := store.ProviderSession{SessionID: "s1", Tokens: "opaque-1b", Expires: base.Add(9 * time.Hour)}
	if err := st.PutProviderSession(ctx, replaced); err != nil {
		t.Fatalf("PutProviderSession again: %v", err)
	}
	if got, err := st.ProviderSession(ctx, "s1"); err != nil || got != replaced {
		t.Fatalf("ProviderSession s1 after replacing = %+v, %v; want %+v", got, err, replaced)
	}
	if err := st.DeleteProviderSession(ctx, "s1"); err != nil {
		t.Fatalf("DeleteProviderSession: %v", err)
	}
	if err := st.DeleteProviderSession(ctx, "s1"); err != nil {
		t.Fatalf("DeleteProviderSession of a deleted record: %v", err)
	}
	if _, err := st.ProviderSession(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ProviderSession after delete: %v, want ErrNotFound", err)
	}
	if got, err := st.ProviderSession(ctx, "s2"); err != nil || got != other {
		t.Fatalf("ProviderSession s2 = %+v, %v; want it untouched", got, err)
	}
}

func (s suite) purgeForgetsExpiredProviderSessions(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for id, expires := range map[string]time.Time{"old": base.Add(-time.Second), "edge": base, "live": base.Add(time.Hour)} {
		if err := st.PutProviderSession(ctx, store.ProviderSession{SessionID: id, Tokens: "t", Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Purge(ctx, base); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if _, err := st.ProviderSession(ctx, "old"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("expired record kept: %v", err)
	}
	for _, id := range []string{"edge", "live"} {
		if _, err := st.ProviderSession(ctx, id); err != nil {
			t.Errorf("record %s purged: %v", id, err)
		}
	}
}
