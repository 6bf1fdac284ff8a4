package inventory

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/trustgate/trustgate/prompt/store"
)

// Source is what Active needs from storage to load the active inventory.
type Source interface {
	Inventories(ctx context.Context) ([]store.Inventory, error)
	InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error)
}

// DefaultPageSize is how many entries Active reads per call of the store
// unless told otherwise.
const DefaultPageSize = 5000

// Active holds the index of the store's active inventory for an instance.
// Requests read it without a lock (Index); Reload replaces it, only once
// the new inventory is fully loaded, so a request sees the old inventory
// or the new one and never a part of one. Share one Active between the
// sites of an instance and reload it at start, on the store's
// EventInventory, and after lost events. Its zero value holds the empty
// index and is ready to use.
type Active struct {
	// PageSize is how many entries Reload reads per call of the store.
	// Default: 5000.
	PageSize int

	reloading sync.Mutex
	index     atomic.Pointer[Index]
}

// Index returns the index of the active inventory as last loaded (nil,
// the empty index, before any load or when no inventory is active).
func (a *Active) Index() *Index { return a.index.Load() }

// Reload loads the store's active inventory and makes it the one Index
// returns, reporting whether it changed. It reads only the list of
// inventories when the active one is still the one held (the same ID
// activated at the same time). No active inventory makes the index empty.
// On any error the index held stays as it was.
func (a *Active) Reload(ctx context.Context, src Source) (changed bool, err error) {
	a.reloading.Lock()
	defer a.reloading.Unlock()
	inventories, err := src.Inventories(ctx)
	if err != nil {
		return false, fmt.Errorf("listing inventories: %w", err)
	}
	want, found := activeOf(inventories)
	held := a.index.Load().Inventory()
	if want.ID == held.ID && want.Activated.Equal(held.Activated) {
		return false, nil
	}
	if !found {
		a.index.Store(nil)
		return true, nil
	}
	entries, err := loadEntries(ctx, src, want, a.pageSize())
	if err != nil {
		return false, err
	}
	a.index.Store(NewIndex(want, entries))
	return true, nil
}

// activeOf returns the active inventory among inventories. A store keeps
// only one; should it show more, the one activated last is taken.
func activeOf(inventories []store.Inventory) (store.Inventory, bool) {
	var active store.Inventory
	found := false
	for _, inv := range inventories {
		if inv.State == store.InventoryActive && (!found || inv.Activated.After(active.Activated)) {
			active, found = inv, true
		}
	}
	return active, found
}

// loadEntries reads every entry of inv, page by page, and checks that
// they are as many as the store counts: an inventory deleted while it was
// read (two activations in quick succession) must not load in part.
func loadEntries(ctx context.Context, src Source, inv store.Inventory, pageSize int) ([]store.InventoryEntry, error) {
	entries := make([]store.InventoryEntry, 0, min(max(inv.Entries, 0), 1<<20))
	for {
		page, err := src.InventoryEntries(ctx, inv.ID, len(entries), pageSize)
		if err != nil {
			return nil, fmt.Errorf("loading inventory %s from entry %d: %w", inv.ID, len(entries), err)
		}
		entries = append(entries, page...)
		if len(page) < pageSize {
			break
		}
	}
	if len(entries) != inv.Entries {
		return nil, fmt.Errorf("loading inventory %s: read %d entries, the store counts %d", inv.ID, len(entries), inv.Entries)
	}
	return entries, nil
}

func (a *Active) pageSize() int {
	if a.PageSize > 0 {
		return a.PageSize
	}
	return DefaultPageSize
}

// Interface guards: the store's inventory contract is what Active needs.
var _ Source = store.InventoryStore(nil)
