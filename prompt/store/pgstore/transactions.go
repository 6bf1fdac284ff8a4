package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// transactionColumns are the columns scanTransaction reads, in its order.
const transactionColumns = `id, username, state, device_id, data, created, expires, updated`

// CreateTransaction stores t, as pending when its State is empty. An ID
// already stored gives store.ErrConflict.
func (s *Store) CreateTransaction(ctx context.Context, t store.Transaction) error {
	state := t.State
	if state == "" {
		state = store.TransactionPending
	}
	tag, err := s.q(ctx).Exec(ctx, `
		INSERT INTO transactions (`+transactionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (id) DO NOTHING`,
		t.ID, t.User, state, t.DeviceID, jsonText(t.Data), t.Created, t.Expires, nullTime(t.Updated))
	if err != nil {
		return fmt.Errorf("creating transaction: %w", err)
	}
	if err := insertedOne(tag); err != nil {
		return fmt.Errorf("creating transaction: %w", err)
	}
	return nil
}

// Transaction returns the transaction id. Messages carry no transaction ID:
// it is the secret in the deep link.
func (s *Store) Transaction(ctx context.Context, id string) (store.Transaction, error) {
	t, err := scanTransaction(s.q(ctx).QueryRow(ctx,
		`SELECT `+transactionColumns+` FROM transactions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Transaction{}, fmt.Errorf("loading transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Transaction{}, fmt.Errorf("loading transaction: %w", err)
	}
	return t, nil
}

// TransitionTransaction is one UPDATE whose WHERE clause is the whole
// precondition (state and expiry). A concurrent caller waits on the row
// lock of the first, then re-checks the WHERE clause against the row the
// first left, which is no longer in state from: exactly one matches. Only
// when nothing matched does it look again, to tell a missing transaction
// from one in another state. An empty deviceID and a nil or empty data keep
// what is stored.
func (s *Store) TransitionTransaction(ctx context.Context, id, from, to, deviceID string, data json.RawMessage, now time.Time) (store.Transaction, error) {
	t, err := scanTransaction(s.q(ctx).QueryRow(ctx, `
		UPDATE transactions SET
			state = $1,
			device_id = CASE WHEN $2::text = '' THEN device_id ELSE $2::text END,
			data = coalesce($3, data),
			updated = $4
		WHERE id = $5 AND state = $6 AND expires > $4
		RETURNING `+transactionColumns,
		to, deviceID, jsonText(data), now, id, from))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Transaction{}, fmt.Errorf("moving transaction from %s to %s: %w",
			from, to, s.missingOrConflict(ctx, `SELECT 1 FROM transactions WHERE id = $1`, id))
	}
	if err != nil {
		return store.Transaction{}, fmt.Errorf("moving transaction from %s to %s: %w", from, to, err)
	}
	return t, nil
}

// missingOrConflict explains why a compare-and-set matched no row: it runs
// exists, a query for the row without the precondition, and returns
// store.ErrNotFound if the row is not there and store.ErrConflict if it is.
func (s *Store) missingOrConflict(ctx context.Context, exists string, args ...any) error {
	return missingOrConflictIn(ctx, s.q(ctx), exists, args...)
}

// missingOrConflictIn is missingOrConflict run through q, such as the
// transaction the compare-and-set ran in.
func missingOrConflictIn(ctx context.Context, q querier, exists string, args ...any) error {
	var one int
	err := q.QueryRow(ctx, exists, args...).Scan(&one)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	default:
		return store.ErrConflict
	}
}

// scanTransaction reads one row of transactionColumns.
func scanTransaction(row rowScanner) (store.Transaction, error) {
	var t store.Transaction
	var data pgtype.Text
	var created, expires, updated pgtype.Timestamptz
	if err := row.Scan(&t.ID, &t.User, &t.State, &t.DeviceID, &data, &created, &expires, &updated); err != nil {
		return store.Transaction{}, err
	}
	t.Data = fromJSONText(data)
	t.Created, t.Expires = fromTime(created), fromTime(expires)
	t.Updated = fromTime(updated)
	return t, nil
}
