package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// ErrNotAnnounced marks a change of the active inventory that is stored
// and in force on this instance, but that the other instances learn only
// on their next refresh (within keyRefreshInterval), because the store's
// event could not be sent.
var ErrNotAnnounced = errors.New("stored, but not announced to the other instances")

// ActivateInventory makes the pending inventory id the active one, on
// every instance: in the store, here at once, and on the others through
// the store's events. It returns the inventory now active. An unknown
// inventory is store.ErrNotFound, one that is not pending
// store.ErrConflict; an error wrapping ErrNotAnnounced still activated it.
// The caller logs the activation, naming who made it.
func (s *Shared) ActivateInventory(ctx context.Context, id string) (store.Inventory, error) {
	if err := s.store.ActivateInventory(ctx, id, time.Now()); err != nil {
		return store.Inventory{}, fmt.Errorf("activating inventory %s: %w", id, err)
	}
	return s.inventoryChanged(ctx, store.Inventory{ID: id, State: store.InventoryActive})
}

// RestorePreviousInventory makes the previous inventory active again, one
// step back, on every instance, as ActivateInventory does; the active one
// becomes previous. It returns the inventory now active; without a
// previous inventory it is store.ErrNotFound.
func (s *Shared) RestorePreviousInventory(ctx context.Context) (store.Inventory, error) {
	restored, err := s.store.RestorePreviousInventory(ctx, time.Now())
	if err != nil {
		return store.Inventory{}, fmt.Errorf("restoring the previous inventory: %w", err)
	}
	return s.inventoryChanged(ctx, restored)
}

// inventoryChanged follows active, just made the active inventory in the
// store: it reloads this instance's index and tells the other instances.
// It returns active as the index holds it (with its count and activation
// time) once loaded. A failed reload keeps the index held (the change is
// stored, and the next refresh loads it); it is logged, not returned, as
// the change itself holds.
func (s *Shared) inventoryChanged(ctx context.Context, active store.Inventory) (store.Inventory, error) {
	s.ReloadInventory(ctx)
	if held := s.inventory.Index().Inventory(); held.ID == active.ID {
		active = held
	}
	if n, ok := s.store.(store.Notifier); ok {
		if err := n.Notify(ctx, store.Event{Kind: store.EventInventory, ID: active.ID}); err != nil {
			s.logger.Error("telling other instances about a new active inventory; they load it on their next refresh",
				zap.String("inventory_id", active.ID), zap.Error(err))
			return active, fmt.Errorf("%w: %w", ErrNotAnnounced, err)
		}
	}
	return active, nil
}

// ReloadInventory loads the store's active inventory into this instance's
// index when it changed (reading only the list of inventories when it did
// not). On failure the index held stays, and the failure is logged.
func (s *Shared) ReloadInventory(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	changed, err := s.inventory.Reload(ctx, s.store)
	if err != nil {
		held := s.inventory.Index().Inventory()
		s.logger.Error("reloading the active inventory of managed devices; keeping the one held",
			zap.String("held_inventory_id", held.ID), zap.Error(err))
		return
	}
	if changed {
		index := s.inventory.Index()
		s.logger.Info("active inventory of managed devices loaded",
			zap.String("inventory_id", index.Inventory().ID), zap.Int("entries", index.Len()))
	}
}

// reloadInventoryWhenDue reloads the inventory each time one is asked for
// (inventoryDue) until ctx ends. Reloads run here, beside the event
// listener, so that loading a large inventory never holds up the events
// behind it (a push, a revocation).
func (s *Shared) reloadInventoryWhenDue(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.inventoryDue:
			s.ReloadInventory(ctx)
		}
	}
}

// inventoryReloadDue asks for a reload of the inventory; asks made while
// one is pending are one.
func (s *Shared) inventoryReloadDue() {
	select {
	case s.inventoryDue <- struct{}{}:
	default:
	}
}
