package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// pushColumns are the columns scanPush reads, in its order.
const pushColumns = `id, username, device_id, transaction_id, state, details, answer, created, expires`

// CreatePush stores p, as pending when its State is empty. An ID already
// stored gives store.ErrConflict.
func (s *Store) CreatePush(ctx context.Context, p store.Push) error {
	state := p.State
	if state == "" {
		state = store.PushPending
	}
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO pushes (`+pushColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			p.ID, p.User, p.DeviceID, p.TransactionID, state, jsonText(p.Details), p.Answer,
			micros(p.Created), micros(p.Expires))
		if err != nil {
			return err
		}
		return insertedOne(res)
	})
	if err != nil {
		return fmt.Errorf("creating push for device %s: %w", p.DeviceID, err)
	}
	return nil
}

// Push returns the push id.
func (s *Store) Push(ctx context.Context, id string) (store.Push, error) {
	p, err := scanPush(s.read(ctx).QueryRowContext(ctx,
		`SELECT `+pushColumns+` FROM pushes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Push{}, fmt.Errorf("loading push: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Push{}, fmt.Errorf("loading push: %w", err)
	}
	return p, nil
}

// PendingPushes returns the device's pending pushes that have not expired
// at now, by Created, oldest first; pushes created in the same microsecond
// come in the order they were stored.
func (s *Store) PendingPushes(ctx context.Context, deviceID string, now time.Time) ([]store.Push, error) {
	rows, err := s.read(ctx).QueryContext(ctx, `
		SELECT `+pushColumns+` FROM pushes
		WHERE device_id = ? AND state = ? AND expires > ?
		ORDER BY created, rowid`,
		deviceID, store.PushPending, micros(now))
	if err != nil {
		return nil, fmt.Errorf("listing pushes of device %s: %w", deviceID, err)
	}
	defer rows.Close()
	var pushes []store.Push
	for rows.Next() {
		p, err := scanPush(rows)
		if err != nil {
			return nil, fmt.Errorf("listing pushes of device %s: %w", deviceID, err)
		}
		pushes = append(pushes, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing pushes of device %s: %w", deviceID, err)
	}
	return pushes, nil
}

// AnswerPush is one UPDATE whose WHERE clause is the whole precondition
// (device, pending, unexpired), so of several concurrent callers exactly one
// answers. Only when nothing matched does it look again, to tell a push of
// another device, or none, from one already answered or expired.
func (s *Store) AnswerPush(ctx context.Context, id, deviceID, state, answer string, now time.Time) (store.Push, error) {
	if state != store.PushApproved && state != store.PushDenied {
		return store.Push{}, fmt.Errorf("answering push of device %s: state %q is not %s or %s",
			deviceID, state, store.PushApproved, store.PushDenied)
	}
	var p store.Push
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		var err error
		p, err = scanPush(tx.QueryRowContext(ctx, `
			UPDATE pushes SET state = ?, answer = ?
			WHERE id = ? AND device_id = ? AND state = ? AND expires > ?
			RETURNING `+pushColumns,
			state, answer, id, deviceID, store.PushPending, micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return missingOrConflict(ctx, tx, `SELECT 1 FROM pushes WHERE id = ? AND device_id = ?`, id, deviceID)
		}
		return err
	})
	if err != nil {
		return store.Push{}, fmt.Errorf("answering push of device %s: %w", deviceID, err)
	}
	return p, nil
}

// WithdrawPushes is one UPDATE of the pushes ids still pending, found by
// their primary key; the IDs go in as one JSON array.
func (s *Store) WithdrawPushes(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return 0, fmt.Errorf("withdrawing pushes: %w", err)
	}
	var n int64
	err = s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE pushes SET state = ?, answer = ?
			WHERE id IN (SELECT value FROM json_each(?)) AND state = ?`,
			store.PushDenied, store.PushWithdrawn, string(list), store.PushPending)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("withdrawing pushes: %w", err)
	}
	return int(n), nil
}

// scanPush reads one row of pushColumns.
func scanPush(row rowScanner) (store.Push, error) {
	var p store.Push
	var details sql.NullString
	var created, expires int64
	if err := row.Scan(&p.ID, &p.User, &p.DeviceID, &p.TransactionID, &p.State, &details,
		&p.Answer, &created, &expires); err != nil {
		return store.Push{}, err
	}
	p.Details = fromJSONText(details)
	p.Created, p.Expires = fromMicros(created), fromMicros(expires)
	return p, nil
}
