package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// inventoryLockKey is the advisory lock that ActivateInventory and
// RestorePreviousInventory take, so that they run one at a time on every
// instance: the bytes of "inventry". Row locks alone cannot order two
// activations of different pending inventories, which lock different rows
// and, with no active inventory yet, would both find none to demote.
const inventoryLockKey int64 = 0x696e76656e747279

// inventoryColumns are the columns scanInventory reads, in its order.
const inventoryColumns = `id, state, source, entries, created, activated`

// inventoryEntryColumns are the columns of inventory_entries that
// AddInventoryEntries copies, in its order.
var inventoryEntryColumns = []string{"inventory_id", "position", "fingerprint", "serial",
	"san_uri", "hardware_serial", "platform", "owner", "label"}

// CreateInventory stores inv as a new, empty, pending inventory. An ID
// already stored gives store.ErrConflict.
func (s *Store) CreateInventory(ctx context.Context, inv store.Inventory) error {
	tag, err := s.q(ctx).Exec(ctx, `
		INSERT INTO inventories (id, state, source, entries, created)
		VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (id) DO NOTHING`,
		inv.ID, store.InventoryPending, inv.Source, inv.Created)
	if err == nil {
		err = insertedOne(tag)
	}
	if err != nil {
		return fmt.Errorf("creating inventory %s: %w", inv.ID, err)
	}
	return nil
}

// AddInventoryEntries reserves the positions and copies the entries in one
// transaction. The first statement raises the entry count of the pending
// inventory, which locks its row until the commit: another call adding to
// it, an activation or a deletion of it waits, and then finds the entries
// all there or (after a rollback) none of them.
func (s *Store) AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error {
	err := s.inTransaction(ctx, func(tx pgx.Tx) error {
		var count int
		err := tx.QueryRow(ctx, `
			UPDATE inventories SET entries = entries + $2
			WHERE id = $1 AND state = $3
			RETURNING entries`,
			id, len(entries), store.InventoryPending).Scan(&count)
		if errors.Is(err, pgx.ErrNoRows) {
			return missingOrConflictIn(ctx, tx, `SELECT 1 FROM inventories WHERE id = $1`, id)
		}
		if err != nil || len(entries) == 0 {
			return err
		}
		first := count - len(entries) + 1
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"inventory_entries"}, inventoryEntryColumns,
			pgx.CopyFromSlice(len(entries), func(i int) ([]any, error) {
				e := entries[i]
				return []any{id, first + i, e.Fingerprint, e.Serial, e.SANURI, e.HardwareSerial,
					e.Platform, e.Owner, e.Label}, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("adding %d entries to inventory %s: %w", len(entries), id, err)
	}
	return nil
}

// ActivateInventory moves the states in one transaction, under
// inventoryLockKey. It locks the row of inventory id before anything else
// changes, so that an AddInventoryEntries still running finishes first.
func (s *Store) ActivateInventory(ctx context.Context, id string, at time.Time) error {
	err := s.inTransaction(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, inventoryLockKey); err != nil {
			return fmt.Errorf("taking the inventory lock: %w", err)
		}
		var state string
		err := tx.QueryRow(ctx, `SELECT state FROM inventories WHERE id = $1 FOR UPDATE`, id).Scan(&state)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case state != store.InventoryPending:
			return store.ErrConflict
		}
		for _, step := range []struct {
			what, query string
			args        []any
		}{
			{"deleting the previous inventory's entries", `
				DELETE FROM inventory_entries WHERE inventory_id = ANY(ARRAY(
					SELECT id FROM inventories WHERE state = $1))`,
				[]any{store.InventoryPrevious}},
			{"deleting the previous inventory", `DELETE FROM inventories WHERE state = $1`,
				[]any{store.InventoryPrevious}},
			{"keeping the active inventory as previous", `UPDATE inventories SET state = $1 WHERE state = $2`,
				[]any{store.InventoryPrevious, store.InventoryActive}},
			{"activating", `UPDATE inventories SET state = $1, activated = $2 WHERE id = $3`,
				[]any{store.InventoryActive, at, id}},
		} {
			if _, err := tx.Exec(ctx, step.query, step.args...); err != nil {
				return fmt.Errorf("%s: %w", step.what, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("activating inventory %s: %w", id, err)
	}
	return nil
}

// RestorePreviousInventory swaps the active and previous inventories in
// one transaction, under inventoryLockKey.
func (s *Store) RestorePreviousInventory(ctx context.Context, at time.Time) (store.Inventory, error) {
	var inv store.Inventory
	err := s.inTransaction(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, inventoryLockKey); err != nil {
			return fmt.Errorf("taking the inventory lock: %w", err)
		}
		var previous string
		err := tx.QueryRow(ctx, `SELECT id FROM inventories WHERE state = $1 FOR UPDATE`,
			store.InventoryPrevious).Scan(&previous)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE inventories SET state = $1 WHERE state = $2`,
			store.InventoryPrevious, store.InventoryActive); err != nil {
			return fmt.Errorf("keeping the active inventory as previous: %w", err)
		}
		inv, err = scanInventory(tx.QueryRow(ctx, `
			UPDATE inventories SET state = $1, activated = $2 WHERE id = $3
			RETURNING `+inventoryColumns,
			store.InventoryActive, at, previous))
		return err
	})
	if err != nil {
		return store.Inventory{}, fmt.Errorf("restoring the previous inventory: %w", err)
	}
	return inv, nil
}

// DeleteInventory deletes the pending inventory id, then its entries, in
// one transaction. Two statements rather than one: the second reads the
// entries after the first has waited out any AddInventoryEntries holding
// the inventory's row, and so sees the entries it committed.
func (s *Store) DeleteInventory(ctx context.Context, id string) error {
	err := s.inTransaction(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM inventories WHERE id = $1 AND state = $2`,
			id, store.InventoryPending)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return missingOrConflictIn(ctx, tx, `SELECT 1 FROM inventories WHERE id = $1`, id)
		}
		_, err = tx.Exec(ctx, `DELETE FROM inventory_entries WHERE inventory_id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting inventory %s: %w", id, err)
	}
	return nil
}

// Inventories reads every inventory row, newest first; the entry counts
// are columns of those rows.
func (s *Store) Inventories(ctx context.Context) ([]store.Inventory, error) {
	rows, err := s.q(ctx).Query(ctx,
		`SELECT `+inventoryColumns+` FROM inventories ORDER BY created DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("listing inventories: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Inventory, error) {
		return scanInventory(row)
	})
	if err != nil {
		return nil, fmt.Errorf("listing inventories: %w", err)
	}
	return list, nil
}

// InventoryEntries reads a range of positions by the primary key. Only a
// page that comes back empty looks for the inventory, to tell a missing
// one from the end of one.
func (s *Store) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	if offset < 0 || limit < 1 {
		return nil, fmt.Errorf("listing entries of inventory %s: offset %d or limit %d out of range", id, offset, limit)
	}
	rows, err := s.q(ctx).Query(ctx, `
		SELECT fingerprint, serial, san_uri, hardware_serial, platform, owner, label
		FROM inventory_entries WHERE inventory_id = $1 AND position > $2
		ORDER BY position LIMIT $3`,
		id, offset, limit)
	var entries []store.InventoryEntry
	if err == nil {
		entries, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.InventoryEntry, error) {
			var e store.InventoryEntry
			err := row.Scan(&e.Fingerprint, &e.Serial, &e.SANURI, &e.HardwareSerial,
				&e.Platform, &e.Owner, &e.Label)
			return e, err
		})
	}
	if err == nil && len(entries) == 0 {
		err = s.inventoryExists(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("listing entries of inventory %s: %w", id, err)
	}
	return entries, nil
}

// inventoryExists returns nil when inventory id is stored and
// store.ErrNotFound when it is not.
func (s *Store) inventoryExists(ctx context.Context, id string) error {
	var one int
	err := s.q(ctx).QueryRow(ctx, `SELECT 1 FROM inventories WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// scanInventory reads one row of inventoryColumns.
func scanInventory(row rowScanner) (store.Inventory, error) {
	var inv store.Inventory
	var created, activated pgtype.Timestamptz
	if err := row.Scan(&inv.ID, &inv.State, &inv.Source, &inv.Entries, &created, &activated); err != nil {
		return store.Inventory{}, err
	}
	inv.Created, inv.Activated = fromTime(created), fromTime(activated)
	return inv, nil
}
