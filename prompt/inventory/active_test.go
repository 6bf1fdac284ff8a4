package inventory

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// mapSource is a Source over maps, standing in for the SQL stores (which
// implement the inventory while this package is written) with the
// contract of store.InventoryStore: paging by offset and limit, and
// ErrNotFound for an unknown inventory.
type mapSource struct {
	mu          sync.Mutex
	inventories map[string]store.Inventory
	entries     map[string][]store.InventoryEntry
	// listErr fails Inventories; failFrom fails InventoryEntries from
	// that offset on (when > 0).
	listErr    error
	failFrom   int
	lists      int
	entryCalls int
}

func newMapSource() *mapSource {
	return &mapSource{inventories: make(map[string]store.Inventory), entries: make(map[string][]store.InventoryEntry)}
}

// put stores an inventory of entries in state, activated at activated.
func (s *mapSource) put(id, state string, activated time.Time, entries []store.InventoryEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inventories[id] = store.Inventory{ID: id, State: state, Entries: len(entries), Created: activated.Add(-time.Minute), Activated: activated}
	s.entries[id] = entries
}

// setState changes the state of inventory id, activated at activated.
func (s *mapSource) setState(id, state string, activated time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv := s.inventories[id]
	inv.State, inv.Activated = state, activated
	s.inventories[id] = inv
}

func (s *mapSource) Inventories(context.Context) ([]store.Inventory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists++
	if s.listErr != nil {
		return nil, s.listErr
	}
	var all []store.Inventory
	for _, inv := range s.inventories {
		all = append(all, inv)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Created.After(all[j].Created) })
	return all, nil
}

func (s *mapSource) InventoryEntries(_ context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryCalls++
	if s.failFrom > 0 && offset >= s.failFrom {
		return nil, errors.New("connection reset")
	}
	entries, ok := s.entries[id]
	if !ok {
		return nil, store.ErrNotFound
	}
	if offset >= len(entries) {
		return nil, nil
	}
	return append([]store.InventoryEntry(nil), entries[offset:min(offset+limit, len(entries))]...), nil
}

func (s *mapSource) calls() (lists, entryCalls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists, s.entryCalls
}

// serialEntries returns n entries with serials from..from+n-1 (hex).
func serialEntries(from, n int) []store.InventoryEntry {
	entries := make([]store.InventoryEntry, n)
	for i := range entries {
		entries[i] = store.InventoryEntry{Serial: fmt.Sprintf("%x", from+i), Platform: "windows", Label: fmt.Sprint(from + i)}
	}
	return entries
}

func TestActiveStartsEmpty(t *testing.T) {
	t.Parallel()
	var a Active
	cert := newTestCA(t).issue(t, big.NewInt(1), "")
	if _, ok := a.Index().Lookup(cert, policy.MatchSerial); ok || a.Index().Len() != 0 {
		t.Fatal("a new Active matched a certificate")
	}
}

func TestActiveReloadLoadsTheActiveInventoryInPages(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	at := testNow
	src.put("old", store.InventoryPrevious, at.Add(-time.Hour), serialEntries(1, 10))
	src.put("cur", store.InventoryActive, at, serialEntries(100, 12_345))
	src.put("next", store.InventoryPending, time.Time{}, serialEntries(50_000, 10))
	a := &Active{PageSize: 1000}
	changed, err := a.Reload(context.Background(), src)
	if err != nil || !changed {
		t.Fatalf("Reload = %v, %v", changed, err)
	}
	if _, entryCalls := src.calls(); entryCalls != 13 {
		t.Errorf("%d pages read for 12,345 entries of 1,000, want 13", entryCalls)
	}
	x := a.Index()
	if x.Len() != 12_345 || x.Inventory().ID != "cur" {
		t.Fatalf("index of %d entries of %q", x.Len(), x.Inventory().ID)
	}
	ca := newTestCA(t)
	for serial, want := range map[int64]bool{100: true, 100 + 12_344: true, 99: false, 5: false, 50_000: false} {
		if _, ok := x.Lookup(ca.issue(t, big.NewInt(serial), ""), policy.MatchSerial); ok != want {
			t.Errorf("serial %x matched = %v, want %v", serial, ok, want)
		}
	}
}

func TestActiveReloadIsCheapWhenTheActiveInventoryIsUnchanged(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.put("cur", store.InventoryActive, testNow, serialEntries(1, 50))
	var a Active
	if _, err := a.Reload(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	before := a.Index()
	_, entryCalls := src.calls()
	changed, err := a.Reload(context.Background(), src)
	if err != nil || changed {
		t.Fatalf("second Reload = %v, %v", changed, err)
	}
	if lists, again := src.calls(); again != entryCalls || lists != 2 {
		t.Errorf("an unchanged reload listed %d times and read %d pages (was %d)", lists, again, entryCalls)
	}
	if a.Index() != before {
		t.Error("an unchanged reload replaced the index")
	}
}

func TestActiveReloadFollowsActivationAndRestore(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	first, second := ca.issue(t, big.NewInt(1), ""), ca.issue(t, big.NewInt(1000), "")
	src := newMapSource()
	src.put("a", store.InventoryActive, testNow, serialEntries(1, 5))
	var a Active
	reload := func(step string, wantFirst, wantSecond bool) {
		t.Helper()
		if changed, err := a.Reload(context.Background(), src); err != nil || !changed {
			t.Fatalf("%s: Reload = %v, %v", step, changed, err)
		}
		_, gotFirst := a.Index().Lookup(first, policy.MatchSerial)
		_, gotSecond := a.Index().Lookup(second, policy.MatchSerial)
		if gotFirst != wantFirst || gotSecond != wantSecond {
			t.Fatalf("%s: first matched %v, second %v; want %v, %v", step, gotFirst, gotSecond, wantFirst, wantSecond)
		}
	}
	reload("load", true, false)
	src.put("b", store.InventoryActive, testNow.Add(time.Hour), serialEntries(1000, 5))
	src.setState("a", store.InventoryPrevious, testNow)
	reload("activate b", false, true)
	// Restoring the previous one activates the same ID anew.
	src.setState("a", store.InventoryActive, testNow.Add(2*time.Hour))
	src.setState("b", store.InventoryPrevious, testNow.Add(time.Hour))
	reload("restore a", true, false)
	src.setState("a", store.InventoryPrevious, testNow.Add(2*time.Hour))
	reload("none active", false, false)
	if a.Index() != nil {
		t.Errorf("no active inventory left an index of %q", a.Index().Inventory().ID)
	}
}

func TestActiveFailedReloadKeepsTheOldIndex(t *testing.T) {
	t.Parallel()
	src := newMapSource()
	src.put("a", store.InventoryActive, testNow, serialEntries(1, 30))
	a := &Active{PageSize: 10}
	if _, err := a.Reload(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	held := a.Index()
	tests := []struct {
		name  string
		fault func()
		says  string
	}{
		{"list fails", func() { src.listErr = errors.New("database down") }, "listing inventories: database down"},
		{"a page fails", func() { src.failFrom = 20 }, "loading inventory b from entry 20: connection reset"},
		{"deleted while read", func() { delete(src.entries, "b") }, "loading inventory b from entry 0: not found"},
		{"fewer entries than counted", func() {
			src.entries["b"] = src.entries["b"][:25]
		}, "loading inventory b: read 25 entries, the store counts 40"},
	}
	for _, tt := range tests {
		src.mu.Lock()
		src.listErr, src.failFrom = nil, 0
		src.mu.Unlock()
		src.put("b", store.InventoryActive, testNow.Add(time.Hour), serialEntries(100, 40))
		src.setState("a", store.InventoryPrevious, testNow)
		src.mu.Lock()
		tt.fault()
		src.mu.Unlock()
		changed, err := a.Reload(context.Background(), src)
		if err == nil || changed || err.Error() != tt.says {
			t.Errorf("%s: Reload = %v, %v; want %q", tt.name, changed, err, tt.says)
		}
		if a.Index() != held {
			t.Errorf("%s: a failed reload replaced the index", tt.name)
		}
	}
}

// TestActiveLookupsSeeOneWholeInventoryDuringReloads runs lookups while
// two inventories take turns: each lookup must see exactly one of them,
// never a part or a mix (and under -race, no data race).
func TestActiveLookupsSeeOneWholeInventoryDuringReloads(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	inA, inB := ca.issue(t, big.NewInt(1), ""), ca.issue(t, big.NewInt(5000), "")
	src := newMapSource()
	src.put("a", store.InventoryActive, testNow, serialEntries(1, 2000))
	a := &Active{PageSize: 100}
	if _, err := a.Reload(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				x := a.Index()
				_, okA := x.Lookup(inA, policy.MatchSerial)
				_, okB := x.Lookup(inB, policy.MatchSerial)
				if okA == okB || x.Len() != 2000 {
					t.Errorf("a lookup saw %q with %d entries: in a %v, in b %v", x.Inventory().ID, x.Len(), okA, okB)
					return
				}
			}
		})
	}
	for i := range 20 {
		id, other := "a", "b"
		if i%2 == 0 {
			id, other = "b", "a"
		}
		at := testNow.Add(time.Duration(i+1) * time.Minute)
		from := map[string]int{"a": 1, "b": 5000}[id]
		src.put(id, store.InventoryActive, at, serialEntries(from, 2000))
		src.setState(other, store.InventoryPrevious, at.Add(-time.Minute))
		if _, err := a.Reload(context.Background(), src); err != nil {
			t.Error(err)
		}
	}
	close(done)
	wg.Wait()
}
