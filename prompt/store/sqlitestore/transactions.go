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

// transactionColumns are the columns scanTransaction reads, in its order.
const transactionColumns = `id, username, state, device_id, data, created, expires, updated`

// CreateTransaction stores t, as pending when its State is empty. An ID
// already stored gives store.ErrConflict.
func (s *Store) CreateTransaction(ctx context.Context, t store.Transaction) error {
	state := t.State
	if state == "" {
		state = store.TransactionPending
	}
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO transactions (`+transactionColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			t.ID, t.User, state, t.DeviceID, jsonText(t.Data), micros(t.Created),
			micros(t.Expires), nullMicros(t.Updated))
		if err != nil {
			return err
		}
		return insertedOne(res)
	})
	if err != nil {
		return fmt.Errorf("creating transaction: %w", err)
	}
	return nil
}

// Transaction returns the transaction id. Messages carry no transaction ID:
// it is the secret in the deep link.
func (s *Store) Transaction(ctx context.Context, id string) (store.Transaction, error) {
	t, err := scanTransaction(s.read(ctx).QueryRowContext(ctx,
		`SELECT `+transactionColumns+` FROM transactions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Transaction{}, fmt.Errorf("loading transaction: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Transaction{}, fmt.Errorf("loading transaction: %w", err)
	}
	return t, nil
}

// TransitionTransaction is one UPDATE whose WHERE clause is the whole
// precondition (state and expiry), run under the database's write lock: of
// several concurrent callers exactly one matches the row, and the others
// find it already moved on. Only when nothing matched does it look again,
// to tell a missing transaction from one in another state. An empty
// deviceID and a nil or empty data keep what is stored.
func (s *Store) TransitionTransaction(ctx context.Context, id, from, to, deviceID string, data json.RawMessage, now time.Time) (store.Transaction, error) {
	var t store.Transaction
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		var err error
		t, err = scanTransaction(tx.QueryRowContext(ctx, `
			UPDATE transactions SET
				state = ?1,
				device_id = CASE WHEN ?2 = '' THEN device_id ELSE ?2 END,
				data = coalesce(?3, data),
				updated = ?4
			WHERE id = ?5 AND state = ?6 AND expires > ?4
			RETURNING `+transactionColumns,
			to, deviceID, jsonText(data), micros(now), id, from))
		if errors.Is(err, sql.ErrNoRows) {
			return missingOrConflict(ctx, tx, `SELECT 1 FROM transactions WHERE id = ?`, id)
		}
		return err
	})
	if err != nil {
		return store.Transaction{}, fmt.Errorf("moving transaction from %s to %s: %w", from, to, err)
	}
	return t, nil
}

// missingOrConflict explains why a compare-and-set matched no row: it runs
// exists, a query for the row without the precondition, in the same
// transaction, and returns store.ErrNotFound if the row is not there and
// store.ErrConflict if it is.
func missingOrConflict(ctx context.Context, tx *writeTx, exists string, args ...any) error {
	var one int
	err := tx.QueryRowContext(ctx, exists, args...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
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
	var data sql.NullString
	var created, expires int64
	var updated sql.NullInt64
	if err := row.Scan(&t.ID, &t.User, &t.State, &t.DeviceID, &data, &created, &expires, &updated); err != nil {
		return store.Transaction{}, err
	}
	t.Data = fromJSONText(data)
	t.Created, t.Expires = fromMicros(created), fromMicros(expires)
	t.Updated = fromNullMicros(updated)
	return t, nil
}
