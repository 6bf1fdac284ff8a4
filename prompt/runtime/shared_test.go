package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// notifyingStore is a store that records the events it is asked to send,
// as PostgreSQL's would send them to every instance.
type notifyingStore struct {
	store.Store
	mu   sync.Mutex
	sent []store.Event
}

func (s *notifyingStore) Notify(_ context.Context, e store.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, e)
	return nil
}

func (s *notifyingStore) Listen(ctx context.Context, _ func(store.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}

// startShared starts a Shared on a new SQLite store, wrapped by wrap, and
// closes it when the test ends.
func startShared(t *testing.T, wrap func(store.Store) store.Store) *Shared {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Start(t.Context(), wrap(st), Options{TrustCacheSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestRevokeDeviceDropsCachedTrustHereAndTellsOtherInstances(t *testing.T) {
	notifier := &notifyingStore{}
	s := startShared(t, func(st store.Store) store.Store { notifier.Store = st; return notifier })
	ctx := t.Context()
	now := time.Now()
	dev := store.Device{ID: "d1", User: "alice", PublicKey: json.RawMessage(`{"kty":"EC"}`), Platform: "ios", Created: now, LastSeen: now}
	if err := s.Store().CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	s.TrustCache().Put("alice", "d1", "policy", device.TrustDecision{Status: "trusted", Expires: now.Add(time.Hour)})

	revoked, err := s.RevokeDevice(ctx, "d1")
	if err != nil {
		t.Fatal(err)
	}
	if revoked.User != "alice" || revoked.Active() {
		t.Errorf("RevokeDevice returned %+v, want alice's device, revoked", revoked)
	}
	if _, ok := s.TrustCache().Get("alice", "d1", "policy"); ok {
		t.Error("the cached decision outlived the revocation")
	}
	notifier.mu.Lock()
	sent := notifier.sent
	notifier.mu.Unlock()
	if len(sent) != 1 || sent[0].Kind != store.EventRevoke || sent[0].ID != "d1" {
		t.Errorf("events sent %+v, want one revoke of d1", sent)
	}
	if _, err := s.RevokeDevice(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking an unknown device: %v, want ErrNotFound", err)
	}
}

func TestRotateCookieKeyKeepsConfiguredKeysFirst(t *testing.T) {
	s := startShared(t, func(st store.Store) store.Store { return st })
	configured := store.CookieKey{ID: "configured-1", HashKey: make([]byte, 32), BlockKey: make([]byte, 32)}
	if err := s.SetConfiguredCookieKeys([]store.CookieKey{configured}); err != nil {
		t.Fatal(err)
	}
	key, err := s.RotateCookieKey(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := s.Store().CookieKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored[0].ID != key.ID {
		t.Errorf("stored keys %d, newest %s; want 2, newest the rotated %s", len(stored), stored[0].ID, key.ID)
	}
	want := []string{configured.ID, key.ID, stored[1].ID}
	if got := s.Cookies().KeyIDs(); !slices.Equal(got, want) {
		t.Errorf("codec keys %v, want %v: the configured one first, then the stored ones, newest first", got, want)
	}
}

func TestListenAppliesOtherInstancesEvents(t *testing.T) {
	s := startShared(t, func(st store.Store) store.Store { return st })
	cache := s.TrustCache()
	decision := device.TrustDecision{Status: "trusted", Expires: time.Now().Add(time.Hour)}
	cache.Put("alice", "d1", "policy", decision)
	cache.Put("bob", "d2", "policy", decision)
	events := make(chan store.Event)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.listen(ctx, eventSource(events))
	}()
	send := func(e store.Event) {
		t.Helper()
		select {
		case events <- e:
		case <-time.After(10 * time.Second):
			t.Fatalf("listen did not take %+v", e)
		}
	}

	send(store.Event{Kind: store.EventRevoke, ID: "d1"})
	send(store.Event{Kind: store.EventSessionRevoked, ID: "session-1", Time: time.Now().Add(time.Hour)})
	send(store.Event{Kind: store.EventPush, ID: "d2"}) // taken only after the ones before were applied
	if _, ok := cache.Get("alice", "d1", "policy"); ok {
		t.Error("a revocation event left the device's decision cached")
	}
	if _, ok := cache.Get("bob", "d2", "policy"); !ok {
		t.Error("a revocation of another device dropped bob's decision")
	}
	if sessions, _ := s.Revocations().Len(); sessions != 1 {
		t.Errorf("%d revoked sessions after the event, want 1", sessions)
	}
	send(store.Event{Kind: store.EventResync})
	send(store.Event{Kind: store.EventPush, ID: "d2"})
	if n := cache.Len(); n != 0 {
		t.Errorf("%d decisions cached after a resync, want none", n)
	}
	cancel()
	<-done
}

// eventSource is a Notifier whose Listen hands on the events of a channel,
// one at a time, until ctx ends.
type eventSource chan store.Event

func (c eventSource) Notify(context.Context, store.Event) error { return nil }

func (c eventSource) Listen(ctx context.Context, fn func(store.Event)) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e := <-c:
			fn(e)
		}
	}
}
