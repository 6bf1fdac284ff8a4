package pgstore

import (
	"context"
	"fmt"
	"time"
)

// PurgeAuthLog deletes the oldest entries before before, at most limit, in
// one statement (and so one transaction), found by the auth_log_at index.
// SKIP LOCKED lets two instances purging at once take different rows
// rather than wait for each other. "= ANY(ARRAY(...))" rather than "IN
// (...)" makes the planner delete by primary key: with IN it may choose to
// scan the whole log and join.
func (s *Store) PurgeAuthLog(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("purging auth log: limit %d is not positive", limit)
	}
	tag, err := s.q(ctx).Exec(ctx, `
		DELETE FROM auth_log WHERE id = ANY(ARRAY(
			SELECT id FROM auth_log WHERE at < $1 ORDER BY at, id LIMIT $2
			FOR UPDATE SKIP LOCKED))`,
		before, limit)
	if err != nil {
		return 0, fmt.Errorf("purging auth log: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// PurgeInactiveDevices deletes at most limit inactive devices, their
// pushes and health history in one statement, and so one transaction.
// greatest ignores NULLs, so it is store.Device.LastActive as it stands.
// FOR UPDATE rechecks a device that another instance touched after the
// statement began against the row as it left it, so a device seen
// meanwhile stays; SKIP LOCKED passes over one being touched right now,
// which is not inactive either. The table is scanned: it holds a row per
// activated phone, few enough for an hourly scan.
func (s *Store) PurgeInactiveDevices(ctx context.Context, before time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, fmt.Errorf("purging inactive devices: limit %d is not positive", limit)
	}
	var n int
	err := s.q(ctx).QueryRow(ctx, `
		WITH gone AS (
			DELETE FROM devices WHERE id = ANY(ARRAY(
				SELECT id FROM devices
				WHERE greatest(created, last_seen, revoked) < $1
				LIMIT $2
				FOR UPDATE SKIP LOCKED))
			RETURNING id
		), pushes_gone AS (
			DELETE FROM pushes WHERE device_id = ANY(ARRAY(SELECT id FROM gone))
		), health_gone AS (
			DELETE FROM device_health WHERE device_id = ANY(ARRAY(SELECT id FROM gone))
		)
		SELECT count(*) FROM gone`,
		before, limit).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("purging inactive devices: %w", err)
	}
	return n, nil
}
