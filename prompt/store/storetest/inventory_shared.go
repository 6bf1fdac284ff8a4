package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// activateInventoryLeavesOneActiveAcrossInstances has callers on two
// instances activate as many pending inventories at once, while others
// restore the previous one: every activation succeeds, one after the
// other, so exactly one inventory ends active and one previous, each
// with its entries, and every other is gone.
func (s sharedSuite) activateInventoryLeavesOneActiveAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	handles := []store.Store{a, b}
	const rounds = 5
	restorer := func(i int) bool { return i%4 == 3 }
	for round := range rounds {
		for i := range raceCallers {
			if !restorer(i) {
				inv := testInventory(round*raceCallers+i, base.Add(time.Duration(round)*time.Hour))
				createInventories(t, handles[i%2], inv)
				addEntries(t, handles[i%2], inv.ID, testEntries(inv.ID, 0, 3))
			}
		}
		parallel(raceCallers, func(i int) {
			h, at := handles[i%2], base.Add(time.Duration(round*raceCallers+i)*time.Second)
			if restorer(i) {
				if _, err := h.RestorePreviousInventory(t.Context(), at); err != nil && !errors.Is(err, store.ErrNotFound) {
					t.Errorf("round %d: RestorePreviousInventory on handle %d: %v, want nil or ErrNotFound", round, i%2, err)
				}
				return
			}
			id := testInventory(round*raceCallers+i, base).ID
			if err := h.ActivateInventory(t.Context(), id, at); err != nil {
				t.Errorf("round %d: ActivateInventory(%s) on handle %d: %v, want nil", round, id, i%2, err)
			}
		})
		for i, h := range handles {
			byState := map[string][]string{}
			for id, state := range inventoryStates(t, h) {
				byState[state] = append(byState[state], id)
			}
			if len(byState[store.InventoryActive]) != 1 || len(byState[store.InventoryPrevious]) != 1 || len(byState) != 2 {
				t.Fatalf("round %d: after %d activations racing on two instances, handle %d holds %v; want one active and one previous, nothing else",
					round, raceCallers, i, byState)
			}
			for _, id := range append(byState[store.InventoryActive], byState[store.InventoryPrevious]...) {
				checkEntries(t, h, id, testEntries(id, 0, 3))
			}
		}
	}
}

// activateInventoryHasOneWinnerAcrossInstances has callers on two
// instances activate one pending inventory at once: exactly one succeeds,
// every other gets ErrConflict.
func (s sharedSuite) activateInventoryHasOneWinnerAcrossInstances(t *testing.T) {
	a, b := s.newPair(t)
	handles := []store.Store{a, b}
	const rounds = 5
	for round := range rounds {
		inv := testInventory(round, base)
		createInventories(t, handles[round%2], inv)
		var wins, losses atomic.Int32
		parallel(raceCallers, func(i int) {
			err := handles[i%2].ActivateInventory(t.Context(), inv.ID, base.Add(time.Duration(i)*time.Second))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
				losses.Add(1)
			default:
				t.Errorf("ActivateInventory on handle %d: %v, want nil or ErrConflict", i%2, err)
			}
		})
		if wins.Load() != 1 || losses.Load() != raceCallers-1 {
			t.Fatalf("round %d: of %d concurrent activations of one inventory on two instances, %d succeeded and %d got ErrConflict; want 1 and %d",
				round, raceCallers, wins.Load(), losses.Load(), raceCallers-1)
		}
		for i, h := range handles {
			if got := inventoriesByID(t, h)[inv.ID].State; got != store.InventoryActive {
				t.Errorf("round %d: handle %d sees the inventory %s, want active", round, i, got)
			}
		}
	}
}

// addInventoryEntriesRacingActivationAddsAllOrNothing adds entries to a
// pending inventory on one instance while the other activates it: the
// activation succeeds, and the inventory it made active holds either every
// entry of the batch (the batch came first) or none (the batch got
// ErrConflict).
func (s sharedSuite) addInventoryEntriesRacingActivationAddsAllOrNothing(t *testing.T) {
	a, b := s.newPair(t)
	const rounds, batch = 5, 500
	for round := range rounds {
		inv := testInventory(round, base)
		createInventories(t, a, inv)
		entries := testEntries(fmt.Sprint(round), 0, batch)
		var addErr, activateErr error
		parallel(2, func(i int) {
			if i == 0 {
				addErr = a.AddInventoryEntries(t.Context(), inv.ID, entries)
			} else {
				activateErr = b.ActivateInventory(t.Context(), inv.ID, base.Add(time.Duration(round)*time.Second))
			}
		})
		if activateErr != nil {
			t.Fatalf("round %d: ActivateInventory: %v", round, activateErr)
		}
		want := entries
		switch {
		case errors.Is(addErr, store.ErrConflict):
			want = nil
		case addErr != nil:
			t.Fatalf("round %d: AddInventoryEntries racing the activation: %v, want nil or ErrConflict", round, addErr)
		}
		for _, h := range []store.Store{a, b} {
			checkEntries(t, h, inv.ID, want)
		}
	}
}
