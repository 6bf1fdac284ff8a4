package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/pgstore"
)

// fillInventory stores a pending inventory id holding n entries, made of
// their number.
func fillInventory(t *testing.T, st store.Store, id string, n int) {
	t.Helper()
	ctx := t.Context()
	if err := st.CreateInventory(ctx, store.Inventory{ID: id, Source: "test", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	entries := make([]store.InventoryEntry, n)
	for i := range entries {
		entries[i] = store.InventoryEntry{Serial: fmt.Sprintf("%x%x", len(id), i+1), Platform: "windows", Label: id}
	}
	if err := st.AddInventoryEntries(ctx, id, entries); err != nil {
		t.Fatal(err)
	}
}

// holds reports the inventory s's index holds and how many entries.
func holds(s *Shared) (string, int) {
	index := s.Inventory().Index()
	return index.Inventory().ID, index.Len()
}

func TestActivateInventoryReloadsThisInstanceAtOnceAndTellsOthers(t *testing.T) {
	notifier := &notifyingStore{}
	s := startShared(t, func(st store.Store) store.Store { notifier.Store = st; return notifier })
	ctx := t.Context()
	fillInventory(t, s.Store(), "first", 3)
	fillInventory(t, s.Store(), "second", 2)

	active, err := s.ActivateInventory(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if id, n := holds(s); id != "first" || n != 3 {
		t.Fatalf("after activating first the index holds %q with %d entries, want first with 3", id, n)
	}
	if active.ID != "first" || active.State != store.InventoryActive || active.Entries != 3 || active.Activated.IsZero() {
		t.Errorf("ActivateInventory returned %+v, want first, active, 3 entries, its activation time", active)
	}
	if _, err := s.ActivateInventory(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	if id, n := holds(s); id != "second" || n != 2 {
		t.Fatalf("after activating second the index holds %q with %d entries", id, n)
	}

	restored, err := s.RestorePreviousInventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id, n := holds(s); id != "first" || n != 3 || restored.ID != "first" || restored.Entries != 3 {
		t.Fatalf("after restoring the index holds %q with %d entries, restore returned %+v; want first with 3", id, n, restored)
	}
	notifier.mu.Lock()
	sent := notifier.sent
	notifier.mu.Unlock()
	if len(sent) != 3 {
		t.Fatalf("events sent %+v, want three inventory events", sent)
	}
	for i, want := range []string{"first", "second", "first"} {
		if sent[i].Kind != store.EventInventory || sent[i].ID != want {
			t.Errorf("event %d is %+v, want an inventory event naming %s", i, sent[i], want)
		}
	}

	if _, err := s.ActivateInventory(ctx, "first"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("activating an inventory that is not pending: %v, want ErrConflict", err)
	}
	if _, err := s.ActivateInventory(ctx, "unknown"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("activating an unknown inventory: %v, want ErrNotFound", err)
	}
	if id, _ := holds(s); id != "first" {
		t.Errorf("failed activations changed the index to %q", id)
	}
}

func TestRestoreWithoutPreviousInventoryIsNotFound(t *testing.T) {
	s := startShared(t, func(st store.Store) store.Store { return st })
	if _, err := s.RestorePreviousInventory(t.Context()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("restoring with no inventory at all: %v, want ErrNotFound", err)
	}
}

// failingStore is a store whose inventory entries cannot be read and
// whose events cannot be sent, when told.
type failingStore struct {
	notifyingStore
	entriesFail bool
	notifyFail  bool
}

func (s *failingStore) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	if s.entriesFail {
		return nil, errors.New("connection reset")
	}
	return s.Store.InventoryEntries(ctx, id, offset, limit)
}

func (s *failingStore) Notify(ctx context.Context, e store.Event) error {
	if s.notifyFail {
		return errors.New("notify channel closed")
	}
	return s.notifyingStore.Notify(ctx, e)
}

func TestActivationThatCannotBeLoadedOrAnnouncedStillHolds(t *testing.T) {
	failing := &failingStore{}
	s := startShared(t, func(st store.Store) store.Store { failing.Store = st; return failing })
	ctx := t.Context()
	fillInventory(t, s.Store(), "first", 3)
	fillInventory(t, s.Store(), "second", 2)
	if _, err := s.ActivateInventory(ctx, "first"); err != nil {
		t.Fatal(err)
	}

	// A reload that fails keeps the index held; the activation is stored.
	failing.entriesFail = true
	active, err := s.ActivateInventory(ctx, "second")
	if err != nil {
		t.Fatalf("activation whose reload failed: %v, want it to hold", err)
	}
	if id, n := holds(s); id != "first" || n != 3 {
		t.Errorf("after a failed reload the index holds %q with %d entries, want first, kept whole", id, n)
	}
	if active.ID != "second" {
		t.Errorf("ActivateInventory returned %+v, want second", active)
	}
	// The next reload (an event, the refresh) catches up.
	failing.entriesFail = false
	s.ReloadInventory(ctx)
	if id, n := holds(s); id != "second" || n != 2 {
		t.Errorf("after the next reload the index holds %q with %d entries, want second", id, n)
	}

	// An event that cannot be sent: restored and loaded here, and said so.
	failing.notifyFail = true
	_, err = s.RestorePreviousInventory(ctx)
	if !errors.Is(err, ErrNotAnnounced) {
		t.Errorf("restore whose event failed: %v, want ErrNotAnnounced", err)
	}
	if id, _ := holds(s); id != "first" {
		t.Errorf("after an unannounced restore the index holds %q, want first", id)
	}
}

func TestListenReloadsTheInventoryOnItsEventAndOnResync(t *testing.T) {
	s := startShared(t, func(st store.Store) store.Store { return st })
	ctx := t.Context()
	events := make(chan store.Event)
	listening, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.listen(listening, eventSource(events))
	}()
	defer func() { cancel(); <-done }()

	for _, step := range []struct {
		id    string
		event string
	}{{"first", store.EventInventory}, {"second", store.EventResync}} {
		// Another instance activates: only the store changes here.
		fillInventory(t, s.Store(), step.id, 2)
		if err := s.Store().ActivateInventory(ctx, step.id, time.Now()); err != nil {
			t.Fatal(err)
		}
		events <- store.Event{Kind: step.event, ID: step.id}
		waitForInventory(t, s, step.id)
	}
}

// waitForInventory polls until s's index holds inventory id, failing t
// after a generous deadline.
func waitForInventory(t *testing.T, s *Shared, id string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if held, _ := holds(s); held == id {
			return
		}
		if time.Now().After(deadline) {
			held, n := holds(s)
			t.Fatalf("the index still holds %q (%d entries), want %s", held, n, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestTwoInstancesOnPostgresFollowActivationAndRestore(t *testing.T) {
	dsn := postgresDatabase(t)
	start := func() *Shared {
		st, err := pgstore.Open(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Start(t.Context(), st, Options{TrustCacheSize: 100})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := start(), start()
	ctx := t.Context()
	fillInventory(t, a.Store(), "first", 5)
	fillInventory(t, a.Store(), "second", 4)

	if _, err := a.ActivateInventory(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	waitForInventory(t, b, "first")
	if _, n := holds(b); n != 5 {
		t.Errorf("B holds %d entries of first, want 5", n)
	}
	if _, err := a.ActivateInventory(ctx, "second"); err != nil {
		t.Fatal(err)
	}
	waitForInventory(t, b, "second")
	if _, err := b.RestorePreviousInventory(ctx); err != nil {
		t.Fatal(err)
	}
	if id, _ := holds(b); id != "first" {
		t.Errorf("B holds %q right after its own restore, want first", id)
	}
	waitForInventory(t, a, "first")
}

// postgresDatabase creates an empty database on the server that
// TRUSTGATE_TEST_POSTGRES names, drops it when t ends, and returns its
// connection string. Without the variable the test is skipped (failed
// in CI, which must run it).
func postgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("TRUSTGATE_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TRUSTGATE_TEST_POSTGRES is not set; CI must provide PostgreSQL")
		}
		t.Skip("TRUSTGATE_TEST_POSTGRES is not set: skipping, this test needs a PostgreSQL server (e.g. TRUSTGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatal("TRUSTGATE_TEST_POSTGRES must be a postgres:// URL for this test")
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	name := pgx.Identifier{"tg_runtime_" + hex.EncodeToString(suffix[:])}
	exec := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Fatalf("connecting to the test server: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE DATABASE " + name.Sanitize())
	t.Cleanup(func() { exec("DROP DATABASE IF EXISTS " + name.Sanitize() + " WITH (FORCE)") })
	u.Path = "/" + name[0]
	return u.String()
}
