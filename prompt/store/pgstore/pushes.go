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

// pushColumns are the columns scanPush reads, in its order.
const pushColumns = `id, username, device_id, transaction_id, state, details, answer, created, expires`

// CreatePush stores p, as pending when its State is empty. An ID already
// stored gives store.ErrConflict.
func (s *Store) CreatePush(ctx context.Context, p store.Push) error {
	state := p.State
	if state == "" {
		state = store.PushPending
	}
	tag, err := s.q(ctx).Exec(ctx, `
		INSERT INTO pushes (`+pushColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (id) DO NOTHING`,
		p.ID, p.User, p.DeviceID, p.TransactionID, state, jsonText(p.Details), p.Answer,
		p.Created, p.Expires)
	if err != nil {
		return fmt.Errorf("creating push for device %s: %w", p.DeviceID, err)
	}
	if err := insertedOne(tag); err != nil {
		return fmt.Errorf("creating push for device %s: %w", p.DeviceID, err)
	}
	return nil
}

// Push returns the push id.
func (s *Store) Push(ctx context.Context, id string) (store.Push, error) {
	p, err := scanPush(s.q(ctx).QueryRow(ctx,
		`SELECT `+pushColumns+` FROM pushes WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.q(ctx).Query(ctx, `
		SELECT `+pushColumns+` FROM pushes
		WHERE device_id = $1 AND state = $2 AND expires > $3
		ORDER BY created, seq`,
		deviceID, store.PushPending, now)
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
// (device, pending, unexpired): a concurrent caller waits on the row lock of
// the first, then finds the push no longer pending, so exactly one answers.
// Only when nothing matched does it look again, to tell a push of another
// device, or none, from one already answered or expired.
func (s *Store) AnswerPush(ctx context.Context, id, deviceID, state, answer string, now time.Time) (store.Push, error) {
	if state != store.PushApproved && state != store.PushDenied {
		return store.Push{}, fmt.Errorf("answering push of device %s: state %q is not %s or %s",
			deviceID, state, store.PushApproved, store.PushDenied)
	}
	p, err := scanPush(s.q(ctx).QueryRow(ctx, `
		UPDATE pushes SET state = $1, answer = $2
		WHERE id = $3 AND device_id = $4 AND state = $5 AND expires > $6
		RETURNING `+pushColumns,
		state, answer, id, deviceID, store.PushPending, now))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Push{}, fmt.Errorf("answering push of device %s: %w", deviceID,
			s.missingOrConflict(ctx, `SELECT 1 FROM pushes WHERE id = $1 AND device_id = $2`, id, deviceID))
	}
	if err != nil {
		return store.Push{}, fmt.Errorf("answering push of device %s: %w", deviceID, err)
	}
	return p, nil
}

// WithdrawPushes is one UPDATE of the pushes ids still pending, found by
// their primary key.
func (s *Store) WithdrawPushes(ctx context.Context, ids []string) (int, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	tag, err := s.q(ctx).Exec(ctx, `
		UPDATE pushes SET state = $1, answer = $2
		WHERE id = ANY($3) AND state = $4`,
		store.PushDenied, store.PushWithdrawn, ids, store.PushPending)
	if err != nil {
		return 0, fmt.Errorf("withdrawing pushes: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// scanPush reads one row of pushColumns.
func scanPush(row rowScanner) (store.Push, error) {
	var p store.Push
	var details pgtype.Text
	var created, expires pgtype.Timestamptz
	if err := row.Scan(&p.ID, &p.User, &p.DeviceID, &p.TransactionID, &p.State, &details,
		&p.Answer, &created, &expires); err != nil {
		return store.Push{}, err
	}
	p.Details = fromJSONText(details)
	p.Created, p.Expires = fromTime(created), fromTime(expires)
	return p, nil
}
