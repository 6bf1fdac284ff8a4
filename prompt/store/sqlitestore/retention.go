package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// PurgeAuthLog deletes the oldest entries before before, at most limit,
// in one statement (and so one transaction). SQLite is not built with
// DELETE ... LIMIT, so a subquery picks the rows, by the auth_log_at index,
// whose entries also carry the rowid that breaks ties of time.
func (s *Store) PurgeAuthLog(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("purging auth log: limit %d is not positive", limit)
	}
	var n int64
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM auth_log WHERE id IN (
				SELECT id FROM auth_log WHERE at < ? ORDER BY at, id LIMIT ?)`,
			micros(before), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging auth log: %w", err)
	}
	return int(n), nil
}

// lastActive is store.Device.LastActive in SQL: the multi-argument max
// returns NULL if any argument is NULL, hence the coalesces.
const lastActive = `max(created, coalesce(last_seen, created), coalesce(revoked, created))`

// PurgeInactiveDevices deletes at most limit inactive devices, their
// pushes and health history in one transaction, which takes the write lock
// at BEGIN (see dataSourceName), so no device can be seen between the
// choice and the deletion. The table is scanned: it holds a row per
// activated phone, few enough for an hourly scan, and no index serves a max
// over three columns.
func (s *Store) PurgeInactiveDevices(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("purging inactive devices: limit %d is not positive", limit)
	}
	var n int
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		var err error
		n, err = purgeInactiveDevices(ctx, tx, before, limit)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purging inactive devices: %w", err)
	}
	return n, nil
}

// purgeInactiveDevices is PurgeInactiveDevices's statements, in the
// writer's transaction.
func purgeInactiveDevices(ctx context.Context, tx *writeTx, before time.Time, limit int) (int, error) {
	rows, err := tx.QueryContext(ctx, `
		DELETE FROM devices WHERE id IN (
			SELECT id FROM devices WHERE `+lastActive+` < ? LIMIT ?)
		RETURNING id`,
		micros(before), limit)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	// The IDs go in as one JSON array, whatever their number, rather than
	// as one parameter each.
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM pushes WHERE device_id IN (SELECT value FROM json_each(?))`,
		string(list)); err != nil {
		return 0, fmt.Errorf("pushes: %w", err)
	}
	if _, err := tx.ExecContext(ctx,
		`DELETE FROM device_health WHERE device_id IN (SELECT value FROM json_each(?))`,
		string(list)); err != nil {
		return 0, fmt.Errorf("health history: %w", err)
	}
	return len(ids), nil
}
