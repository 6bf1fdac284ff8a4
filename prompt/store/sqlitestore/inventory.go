package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// inventoryColumns are the columns scanInventory reads, in its order.
const inventoryColumns = `id, state, source, entries, created, activated`

// CreateInventory stores inv as a new, empty, pending inventory. An ID
// already stored gives store.ErrConflict.
func (s *Store) CreateInventory(ctx context.Context, inv store.Inventory) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO inventories (id, state, source, entries, created)
			VALUES (?, ?, ?, 0, ?)
			ON CONFLICT (id) DO NOTHING`,
			inv.ID, store.InventoryPending, inv.Source, micros(inv.Created))
		if err != nil {
			return err
		}
		return insertedOne(res)
	})
	if err != nil {
		return fmt.Errorf("creating inventory %s: %w", inv.ID, err)
	}
	return nil
}

// AddInventoryEntries inserts entries with one prepared statement, in the
// writer's transaction and a savepoint of their own: a failure undoes every
// row of the call and nothing else. The writer holds SQLite's write lock
// meanwhile, so the positions, which continue after the inventory's entry
// count, cannot be taken by another call.
func (s *Store) AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error {
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		count, err := pendingInventory(ctx, tx, id)
		if err != nil {
			return err
		}
		for i, e := range entries {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO inventory_entries (inventory_id, position, fingerprint, serial,
					san_uri, hardware_serial, platform, owner, label)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				id, count+i+1, e.Fingerprint, e.Serial, e.SANURI, e.HardwareSerial,
				e.Platform, e.Owner, e.Label); err != nil {
				return fmt.Errorf("entry %d: %w", i+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE inventories SET entries = entries + ? WHERE id = ?`,
			len(entries), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("adding %d entries to inventory %s: %w", len(entries), id, err)
	}
	return nil
}

// pendingInventory returns how many entries the pending inventory id
// holds, store.ErrNotFound when there is none and store.ErrConflict when it
// is not pending.
func pendingInventory(ctx context.Context, tx *writeTx, id string) (int, error) {
	var state string
	var count int
	err := tx.QueryRowContext(ctx, `SELECT state, entries FROM inventories WHERE id = ?`, id).Scan(&state, &count)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, store.ErrNotFound
	case err != nil:
		return 0, err
	case state != store.InventoryPending:
		return 0, store.ErrConflict
	}
	return count, nil
}

// ActivateInventory moves the states in the writer's transaction, under
// SQLite's write lock, so that two activations, from this process or
// another, run one after the other: the second makes the first's inventory
// previous.
func (s *Store) ActivateInventory(ctx context.Context, id string, at time.Time) error {
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		if _, err := pendingInventory(ctx, tx, id); err != nil {
			return err
		}
		for _, step := range []struct {
			what, query string
			args        []any
		}{
			{"deleting the previous inventory's entries", `
				DELETE FROM inventory_entries WHERE inventory_id IN (
					SELECT id FROM inventories WHERE state = ?)`,
				[]any{store.InventoryPrevious}},
			{"deleting the previous inventory", `DELETE FROM inventories WHERE state = ?`,
				[]any{store.InventoryPrevious}},
			{"keeping the active inventory as previous", `UPDATE inventories SET state = ? WHERE state = ?`,
				[]any{store.InventoryPrevious, store.InventoryActive}},
			{"activating", `UPDATE inventories SET state = ?, activated = ? WHERE id = ?`,
				[]any{store.InventoryActive, micros(at), id}},
		} {
			if _, err := tx.ExecContext(ctx, step.query, step.args...); err != nil {
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
// the writer's transaction.
func (s *Store) RestorePreviousInventory(ctx context.Context, at time.Time) (store.Inventory, error) {
	var inv store.Inventory
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		var previous string
		err := tx.QueryRowContext(ctx, `SELECT id FROM inventories WHERE state = ?`,
			store.InventoryPrevious).Scan(&previous)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE inventories SET state = ? WHERE state = ?`,
			store.InventoryPrevious, store.InventoryActive); err != nil {
			return fmt.Errorf("keeping the active inventory as previous: %w", err)
		}
		inv, err = scanInventory(tx.QueryRowContext(ctx, `
			UPDATE inventories SET state = ?, activated = ? WHERE id = ?
			RETURNING `+inventoryColumns,
			store.InventoryActive, micros(at), previous))
		return err
	})
	if err != nil {
		return store.Inventory{}, fmt.Errorf("restoring the previous inventory: %w", err)
	}
	return inv, nil
}

// DeleteInventory deletes the pending inventory id and its entries in one
// savepoint of the writer's transaction.
func (s *Store) DeleteInventory(ctx context.Context, id string) error {
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM inventories WHERE id = ? AND state = ?`,
			id, store.InventoryPending)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return missingOrConflict(ctx, tx, `SELECT 1 FROM inventories WHERE id = ?`, id)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM inventory_entries WHERE inventory_id = ?`, id)
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
	rows, err := s.read(ctx).QueryContext(ctx,
		`SELECT `+inventoryColumns+` FROM inventories ORDER BY created DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("listing inventories: %w", err)
	}
	defer rows.Close()
	var list []store.Inventory
	for rows.Next() {
		inv, err := scanInventory(rows)
		if err != nil {
			return nil, fmt.Errorf("listing inventories: %w", err)
		}
		list = append(list, inv)
	}
	if err := rows.Err(); err != nil {
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
	entries, err := s.inventoryEntries(ctx, id, offset, limit)
	if err == nil && len(entries) == 0 {
		err = s.inventoryExists(ctx, id)
	}
	if err != nil {
		return nil, fmt.Errorf("listing entries of inventory %s: %w", id, err)
	}
	return entries, nil
}

// inventoryEntries is InventoryEntries's page query.
func (s *Store) inventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	rows, err := s.read(ctx).QueryContext(ctx, `
		SELECT fingerprint, serial, san_uri, hardware_serial, platform, owner, label
		FROM inventory_entries WHERE inventory_id = ? AND position > ?
		ORDER BY position LIMIT ?`,
		id, offset, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var entries []store.InventoryEntry
	for rows.Next() {
		var e store.InventoryEntry
		if err := rows.Scan(&e.Fingerprint, &e.Serial, &e.SANURI, &e.HardwareSerial,
			&e.Platform, &e.Owner, &e.Label); err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, rows.Err()
}

// inventoryExists returns nil when inventory id is stored and
// store.ErrNotFound when it is not.
func (s *Store) inventoryExists(ctx context.Context, id string) error {
	var one int
	err := s.read(ctx).QueryRowContext(ctx, `SELECT 1 FROM inventories WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// scanInventory reads one row of inventoryColumns.
func scanInventory(row rowScanner) (store.Inventory, error) {
	var inv store.Inventory
	var created int64
	var activated sql.NullInt64
	if err := row.Scan(&inv.ID, &inv.State, &inv.Source, &inv.Entries, &created, &activated); err != nil {
		return store.Inventory{}, err
	}
	inv.Created, inv.Activated = fromMicros(created), fromNullMicros(activated)
	return inv, nil
}
