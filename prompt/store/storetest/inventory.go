package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testInventory returns inventory n, made at created by an admin upload.
func testInventory(n int, created time.Time) store.Inventory {
	return store.Inventory{
		ID:      fmt.Sprintf("inventory-%d", n),
		Source:  fmt.Sprintf("upload by admin (devices-%d.csv)", n),
		Created: created,
	}
}

// testEntries returns n entries numbered from first, tagged so that the
// entries of different inventories differ. Each sets every field, so that
// a field lost or swapped shows.
func testEntries(tag string, first, n int) []store.InventoryEntry {
	entries := make([]store.InventoryEntry, n)
	for i := range entries {
		k := first + i
		entries[i] = store.InventoryEntry{
			Fingerprint:    fmt.Sprintf("%064x", k),
			Serial:         fmt.Sprintf("%x", 0x10000+k),
			SANURI:         fmt.Sprintf("urn:device:%s:%d", tag, k),
			HardwareSerial: fmt.Sprintf("C02%s%05d", tag, k),
			Platform:       []string{"windows", "macos", "linux"}[k%3],
			Owner:          fmt.Sprintf("user%d@example.com", k),
			Label:          fmt.Sprintf("%s-host-%d", tag, k),
		}
	}
	return entries
}

// createInventories stores inventories in order.
func createInventories(t *testing.T, st store.Store, inventories ...store.Inventory) {
	t.Helper()
	for _, inv := range inventories {
		if err := st.CreateInventory(t.Context(), inv); err != nil {
			t.Fatalf("CreateInventory(%s): %v", inv.ID, err)
		}
	}
}

// addEntries adds entries to inventory id, failing t if it cannot.
func addEntries(t *testing.T, st store.Store, id string, entries []store.InventoryEntry) {
	t.Helper()
	if err := st.AddInventoryEntries(t.Context(), id, entries); err != nil {
		t.Fatalf("AddInventoryEntries(%s, %d entries): %v", id, len(entries), err)
	}
}

// activate activates inventory id at at, failing t if it cannot.
func activate(t *testing.T, st store.Store, id string, at time.Time) {
	t.Helper()
	if err := st.ActivateInventory(t.Context(), id, at); err != nil {
		t.Fatalf("ActivateInventory(%s): %v", id, err)
	}
}

// inventoriesByID returns every stored inventory by ID.
func inventoriesByID(t *testing.T, st store.Store) map[string]store.Inventory {
	t.Helper()
	list, err := st.Inventories(t.Context())
	if err != nil {
		t.Fatalf("Inventories: %v", err)
	}
	m := map[string]store.Inventory{}
	for _, inv := range list {
		m[inv.ID] = inv
	}
	if len(m) != len(list) {
		t.Fatalf("Inventories lists an ID twice: %+v", list)
	}
	return m
}

// inventoryStates returns the state of every stored inventory by ID.
func inventoryStates(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	states := map[string]string{}
	for id, inv := range inventoriesByID(t, st) {
		states[id] = inv.State
	}
	return states
}

// checkStates reports how the stored inventories' states differ from want.
func checkStates(t *testing.T, what string, st store.Store, want map[string]string) {
	t.Helper()
	if got := inventoryStates(t, st); !maps.Equal(got, want) {
		t.Errorf("%s: inventory states = %v, want %v", what, got, want)
	}
}

// allEntries reads every entry of inventory id, a few at a time.
func allEntries(t *testing.T, st store.Store, id string) []store.InventoryEntry {
	t.Helper()
	const page = 7
	var all []store.InventoryEntry
	for {
		got, err := st.InventoryEntries(t.Context(), id, len(all), page)
		if err != nil {
			t.Fatalf("InventoryEntries(%s, %d, %d): %v", id, len(all), page, err)
		}
		if len(got) > page {
			t.Fatalf("InventoryEntries(%s, %d, %d) returned %d entries", id, len(all), page, len(got))
		}
		all = append(all, got...)
		if len(got) < page {
			return all
		}
	}
}

// checkEntries reports whether inventory id holds exactly want, in order,
// and counts them.
func checkEntries(t *testing.T, st store.Store, id string, want []store.InventoryEntry) {
	t.Helper()
	got := allEntries(t, st, id)
	if !slices.Equal(got, want) {
		t.Errorf("entries of %s: got %d, want %d; first difference at %d", id, len(got), len(want), firstDifference(got, want))
	}
	if inv, ok := inventoriesByID(t, st)[id]; !ok || inv.Entries != len(want) {
		t.Errorf("Inventories counts %d entries in %s (listed: %v), want %d", inv.Entries, id, ok, len(want))
	}
}

// firstDifference returns the index of the first entry where got and want
// differ.
func firstDifference(got, want []store.InventoryEntry) int {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return i
		}
	}
	return min(len(got), len(want))
}

// inventories runs the cases of InventoryStore.
func (s suite) inventories(t *testing.T) {
	t.Run("CreateInventoryStoresPendingAndRejectsDuplicateID", s.createInventoryStoresPendingAndRejectsDuplicateID)
	t.Run("InventoriesListsNewestFirst", s.inventoriesListsNewestFirst)
	t.Run("InventoryEntriesPageInOrderAcrossAdds", s.inventoryEntriesPageInOrderAcrossAdds)
	t.Run("AddInventoryEntriesRefusesAndAddsNothing", s.addInventoryEntriesRefusesAndAddsNothing)
	t.Run("ActivateInventoryMovesStatesAndDropsOldPrevious", s.activateInventoryMovesStatesAndDropsOldPrevious)
	t.Run("ActivateInventoryRefusesWhatItCannotDo", s.activateInventoryRefusesWhatItCannotDo)
	t.Run("RestorePreviousInventorySwaps", s.restorePreviousInventorySwaps)
	t.Run("DeleteInventoryDeletesOnlyPending", s.deleteInventoryDeletesOnlyPending)
	t.Run("InventoryEntriesOfUnknownInventoryIsNotFound", s.inventoryEntriesOfUnknownInventoryIsNotFound)
	t.Run("CanceledContextChangesNoInventory", s.canceledContextChangesNoInventory)
}

func (s suite) createInventoryStoresPendingAndRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	inv := testInventory(1, base.In(time.FixedZone("UTC+2", 2*60*60)))
	// State and Entries are the store's to set.
	asGiven := inv
	asGiven.State, asGiven.Entries = store.InventoryActive, 5
	if err := st.CreateInventory(ctx, asGiven); err != nil {
		t.Fatalf("CreateInventory: %v", err)
	}
	again := testInventory(1, base.Add(time.Hour))
	again.Source = "another upload"
	if err := st.CreateInventory(ctx, again); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateInventory of a stored ID = %v, want ErrConflict", err)
	}
	got, ok := inventoriesByID(t, st)[inv.ID]
	if !ok {
		t.Fatalf("Inventories lacks %s", inv.ID)
	}
	checkTime(t, "Created", got.Created, inv.Created)
	checkTime(t, "Activated", got.Activated, time.Time{})
	if got.State != store.InventoryPending || got.Entries != 0 || got.Source != inv.Source {
		t.Errorf("stored inventory = %+v, want pending with no entries and source %q (the first one's)", got, inv.Source)
	}
	if entries, err := st.InventoryEntries(ctx, inv.ID, 0, 10); err != nil || len(entries) != 0 {
		t.Errorf("InventoryEntries of a new inventory = %d entries, %v; want none, nil", len(entries), err)
	}
}

func (s suite) inventoriesListsNewestFirst(t *testing.T) {
	st := s.newStore(t)
	if list, err := st.Inventories(t.Context()); err != nil || len(list) != 0 {
		t.Fatalf("Inventories of a new store = %+v, %v; want none", list, err)
	}
	createInventories(t, st, testInventory(1, base.Add(time.Minute)), testInventory(2, base.Add(time.Hour)),
		testInventory(3, base))
	list, err := st.Inventories(t.Context())
	if err != nil {
		t.Fatalf("Inventories: %v", err)
	}
	var ids []string
	for _, inv := range list {
		ids = append(ids, inv.ID)
	}
	if want := []string{"inventory-2", "inventory-1", "inventory-3"}; !slices.Equal(ids, want) {
		t.Errorf("Inventories = %v, want newest Created first: %v", ids, want)
	}
}

// Entries come back in the order they were added, over several calls, and
// the entries of two inventories filled in turns do not mix.
func (s suite) inventoryEntriesPageInOrderAcrossAdds(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	a, b := testInventory(1, base), testInventory(2, base)
	createInventories(t, st, a, b)
	var wantA, wantB []store.InventoryEntry
	for i, n := range []int{5, 0, 12, 1, 30} {
		batchA, batchB := testEntries("a", len(wantA), n), testEntries("b", len(wantB), n+i)
		addEntries(t, st, a.ID, batchA)
		addEntries(t, st, b.ID, batchB)
		wantA, wantB = append(wantA, batchA...), append(wantB, batchB...)
	}
	checkEntries(t, st, a.ID, wantA)
	checkEntries(t, st, b.ID, wantB)
	for _, p := range []struct{ offset, limit int }{{0, 1}, {4, 3}, {5, 100}, {47, 1}, {48, 10}, {1000, 10}} {
		got, err := st.InventoryEntries(ctx, a.ID, p.offset, p.limit)
		if err != nil {
			t.Fatalf("InventoryEntries(%d, %d): %v", p.offset, p.limit, err)
		}
		want := wantA[min(p.offset, len(wantA)):min(p.offset+p.limit, len(wantA))]
		if !slices.Equal(got, want) {
			t.Errorf("InventoryEntries(%d, %d) = %d entries, want the %d from position %d", p.offset, p.limit, len(got), len(want), p.offset+1)
		}
	}
	for _, p := range []struct{ offset, limit int }{{-1, 10}, {0, 0}, {0, -1}} {
		if _, err := st.InventoryEntries(ctx, a.ID, p.offset, p.limit); err == nil {
			t.Errorf("InventoryEntries(%d, %d) succeeded, want an error", p.offset, p.limit)
		}
	}
}

// A batch to an inventory that is not pending, or to none, adds nothing,
// nor does one inside InOneCommit that fails later.
func (s suite) addInventoryEntriesRefusesAndAddsNothing(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	active, pending := testInventory(1, base), testInventory(2, base)
	createInventories(t, st, active, pending)
	first := testEntries("a", 0, 3)
	addEntries(t, st, active.ID, first)
	activate(t, st, active.ID, base.Add(time.Minute))
	if err := st.AddInventoryEntries(ctx, active.ID, testEntries("a", 3, 50)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("AddInventoryEntries to the active inventory = %v, want ErrConflict", err)
	}
	checkEntries(t, st, active.ID, first)
	if err := st.AddInventoryEntries(ctx, "inventory-none", testEntries("x", 0, 2)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddInventoryEntries to an unknown inventory = %v, want ErrNotFound", err)
	}
	if err := st.AddInventoryEntries(ctx, "inventory-none", nil); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddInventoryEntries of no entries to an unknown inventory = %v, want ErrNotFound", err)
	}
	if err := st.AddInventoryEntries(ctx, pending.ID, nil); err != nil {
		t.Errorf("AddInventoryEntries of no entries: %v", err)
	}
	c, ok := st.(store.OneCommitter)
	if !ok {
		checkEntries(t, st, pending.ID, nil)
		return
	}
	errLater := errors.New("a later row is bad")
	err := c.InOneCommit(ctx, func(ctx context.Context) error {
		if err := st.AddInventoryEntries(ctx, pending.ID, testEntries("b", 0, 20)); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Errorf("InOneCommit = %v, want %v", err, errLater)
	}
	checkEntries(t, st, pending.ID, nil)
}

func (s suite) activateInventoryMovesStatesAndDropsOldPrevious(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	a, b, c := testInventory(1, base), testInventory(2, base.Add(time.Hour)), testInventory(3, base.Add(2*time.Hour))
	createInventories(t, st, a, b)
	entriesA, entriesB := testEntries("a", 0, 10), testEntries("b", 0, 4)
	addEntries(t, st, a.ID, entriesA)
	addEntries(t, st, b.ID, entriesB)

	at1 := base.Add(time.Minute)
	activate(t, st, a.ID, at1)
	checkStates(t, "after the first activation", st, map[string]string{a.ID: store.InventoryActive, b.ID: store.InventoryPending})
	checkTime(t, "Activated of the first", inventoriesByID(t, st)[a.ID].Activated, at1)

	at2 := base.Add(2 * time.Minute)
	activate(t, st, b.ID, at2)
	checkStates(t, "after the second activation", st, map[string]string{a.ID: store.InventoryPrevious, b.ID: store.InventoryActive})
	got := inventoriesByID(t, st)
	checkTime(t, "Activated of the previous one", got[a.ID].Activated, at1)
	checkTime(t, "Activated of the second", got[b.ID].Activated, at2)
	checkEntries(t, st, a.ID, entriesA)
	checkEntries(t, st, b.ID, entriesB)

	createInventories(t, st, c)
	activate(t, st, c.ID, base.Add(3*time.Minute))
	checkStates(t, "after the third activation", st, map[string]string{b.ID: store.InventoryPrevious, c.ID: store.InventoryActive})
	if _, err := st.InventoryEntries(ctx, a.ID, 0, 10); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("InventoryEntries of the dropped inventory = %v, want ErrNotFound", err)
	}
	// Its ID is free again, and its entries went with it.
	createInventories(t, st, a)
	checkEntries(t, st, a.ID, nil)
	checkEntries(t, st, b.ID, entriesB)
}

func (s suite) activateInventoryRefusesWhatItCannotDo(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	prev, active := testInventory(1, base), testInventory(2, base)
	createInventories(t, st, prev, active)
	activate(t, st, prev.ID, base)
	activate(t, st, active.ID, base.Add(time.Second))
	want := inventoriesByID(t, st)
	for _, c := range []struct {
		id   string
		want error
	}{{"inventory-none", store.ErrNotFound}, {active.ID, store.ErrConflict}, {prev.ID, store.ErrConflict}} {
		if err := st.ActivateInventory(ctx, c.id, base.Add(time.Hour)); !errors.Is(err, c.want) {
			t.Errorf("ActivateInventory(%s) = %v, want %v", c.id, err, c.want)
		}
	}
	if got := inventoriesByID(t, st); !maps.EqualFunc(got, want, sameInventory) {
		t.Errorf("after refused activations, inventories = %+v, want %+v", got, want)
	}
}

// sameInventory reports whether a and b are equal, times as instants.
func sameInventory(a, b store.Inventory) bool {
	return a.ID == b.ID && a.State == b.State && a.Source == b.Source && a.Entries == b.Entries &&
		a.Created.Equal(b.Created) && a.Activated.Equal(b.Activated)
}

func (s suite) restorePreviousInventorySwaps(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if _, err := st.RestorePreviousInventory(ctx, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RestorePreviousInventory of a new store = %v, want ErrNotFound", err)
	}
	a, b := testInventory(1, base), testInventory(2, base)
	createInventories(t, st, a, b)
	addEntries(t, st, a.ID, testEntries("a", 0, 3))
	activate(t, st, a.ID, base.Add(time.Minute))
	if _, err := st.RestorePreviousInventory(ctx, base); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RestorePreviousInventory with only an active inventory = %v, want ErrNotFound", err)
	}
	activate(t, st, b.ID, base.Add(2*time.Minute))

	at := base.Add(3 * time.Minute)
	got, err := st.RestorePreviousInventory(ctx, at)
	if err != nil {
		t.Fatalf("RestorePreviousInventory: %v", err)
	}
	checkTime(t, "Activated of the restored inventory", got.Activated, at)
	if got.ID != a.ID || got.State != store.InventoryActive || got.Entries != 3 || got.Source != a.Source {
		t.Errorf("RestorePreviousInventory = %+v, want %s active with its 3 entries", got, a.ID)
	}
	checkStates(t, "after restoring", st, map[string]string{a.ID: store.InventoryActive, b.ID: store.InventoryPrevious})
	checkTime(t, "Activated of the one restored from", inventoriesByID(t, st)[b.ID].Activated, base.Add(2*time.Minute))

	// Restoring again goes back.
	if got, err := st.RestorePreviousInventory(ctx, at.Add(time.Minute)); err != nil || got.ID != b.ID {
		t.Errorf("RestorePreviousInventory again = %s, %v; want %s", got.ID, err, b.ID)
	}
	checkStates(t, "after restoring again", st, map[string]string{a.ID: store.InventoryPrevious, b.ID: store.InventoryActive})
	checkEntries(t, st, a.ID, testEntries("a", 0, 3))
}

func (s suite) deleteInventoryDeletesOnlyPending(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	prev, active, pending := testInventory(1, base), testInventory(2, base), testInventory(3, base)
	createInventories(t, st, prev, active, pending)
	activate(t, st, prev.ID, base)
	activate(t, st, active.ID, base.Add(time.Second))
	addEntries(t, st, pending.ID, testEntries("p", 0, 9))
	if err := st.DeleteInventory(ctx, pending.ID); err != nil {
		t.Fatalf("DeleteInventory of a pending inventory: %v", err)
	}
	for _, c := range []struct {
		id   string
		want error
	}{{pending.ID, store.ErrNotFound}, {"inventory-none", store.ErrNotFound}, {active.ID, store.ErrConflict}, {prev.ID, store.ErrConflict}} {
		if err := st.DeleteInventory(ctx, c.id); !errors.Is(err, c.want) {
			t.Errorf("DeleteInventory(%s) = %v, want %v", c.id, err, c.want)
		}
	}
	checkStates(t, "after the deletions", st, map[string]string{prev.ID: store.InventoryPrevious, active.ID: store.InventoryActive})
	if _, err := st.InventoryEntries(ctx, pending.ID, 0, 10); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("InventoryEntries of a deleted inventory = %v, want ErrNotFound", err)
	}
	// Its entries went with it.
	createInventories(t, st, pending)
	checkEntries(t, st, pending.ID, nil)
}

func (s suite) inventoryEntriesOfUnknownInventoryIsNotFound(t *testing.T) {
	st := s.newStore(t)
	for _, offset := range []int{0, 10} {
		if _, err := st.InventoryEntries(t.Context(), "inventory-none", offset, 10); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("InventoryEntries of an unknown inventory from %d = %v, want ErrNotFound", offset, err)
		}
	}
}

func (s suite) canceledContextChangesNoInventory(t *testing.T) {
	st := s.newStore(t)
	active, pending := testInventory(1, base), testInventory(2, base)
	createInventories(t, st, active, pending)
	activate(t, st, active.ID, base)
	want := inventoriesByID(t, st)
	canceled := canceledContext()
	calls := map[string]func() error{
		"CreateInventory":     func() error { return st.CreateInventory(canceled, testInventory(3, base)) },
		"AddInventoryEntries": func() error { return st.AddInventoryEntries(canceled, pending.ID, testEntries("p", 0, 5)) },
		"ActivateInventory":   func() error { return st.ActivateInventory(canceled, pending.ID, base) },
		"DeleteInventory":     func() error { return st.DeleteInventory(canceled, pending.ID) },
		"RestorePreviousInventory": func() error {
			_, err := st.RestorePreviousInventory(canceled, base)
			return err
		},
		"Inventories": func() error { _, err := st.Inventories(canceled); return err },
		"InventoryEntries": func() error {
			_, err := st.InventoryEntries(canceled, active.ID, 0, 10)
			return err
		},
	}
	for name, call := range calls {
		if err := returnsWithin(t, name, call); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", name, err)
		}
	}
	if got := inventoriesByID(t, st); !maps.EqualFunc(got, want, sameInventory) {
		t.Errorf("after canceled calls, inventories = %+v, want %+v", got, want)
	}
}

// AddInventoryEntriesFailingMidwayAddsNothing checks that a batch the
// database refuses part of the way through adds none of its entries, and
// that the next batch continues right after the entries stored before it.
// The store has no way to refuse a valid entry, so the backend's test
// makes its database refuse any entry labelled poison (a trigger or a
// constraint) on st, a new store, and then calls it.
func AddInventoryEntriesFailingMidwayAddsNothing(t *testing.T, st store.Store, poison string) {
	t.Helper()
	inv := testInventory(1, base)
	createInventories(t, st, inv)
	before := testEntries("a", 0, 3)
	addEntries(t, st, inv.ID, before)
	batch := testEntries("a", 3, 5000)
	batch[4000].Label = poison
	if err := st.AddInventoryEntries(t.Context(), inv.ID, batch); err == nil {
		t.Fatal("AddInventoryEntries of a batch with a refused entry succeeded; the test's poison does not work")
	}
	checkEntries(t, st, inv.ID, before)
	// Inside one commit that goes on after the failure and commits, the
	// failed call must still have added nothing.
	if c, ok := st.(store.OneCommitter); ok {
		var addErr error
		err := c.InOneCommit(t.Context(), func(ctx context.Context) error {
			addErr = st.AddInventoryEntries(ctx, inv.ID, batch)
			return nil
		})
		if err != nil || addErr == nil {
			t.Fatalf("InOneCommit around a refused batch = %v, the batch's error %v; want nil and an error", err, addErr)
		}
		checkEntries(t, st, inv.ID, before)
	}
	after := testEntries("a", 3, 2)
	addEntries(t, st, inv.ID, after)
	checkEntries(t, st, inv.ID, append(before, after...))
}
