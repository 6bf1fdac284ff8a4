package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// CreateActivation stores a. A code hash already stored gives
// store.ErrConflict.
func (s *Store) CreateActivation(ctx context.Context, a store.Activation) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO activations (code_hash, username, created, expires, realm)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (code_hash) DO NOTHING`,
			a.CodeHash, a.User, micros(a.Created), micros(a.Expires), a.Realm)
		if err != nil {
			return err
		}
		return insertedOne(res)
	})
	if err != nil {
		return fmt.Errorf("creating activation: %w", err)
	}
	return nil
}

// ConsumeActivation deletes the activation and returns it, if it has not
// expired at now. The delete is one statement, run under the database's
// write lock, so of any number of concurrent callers exactly one gets the
// row back. Expired activations stay until Purge, and are not found.
// Messages carry no code hash: it would let a reader of the log match codes.
func (s *Store) ConsumeActivation(ctx context.Context, codeHash string, now time.Time) (store.Activation, error) {
	a := store.Activation{CodeHash: codeHash}
	var created, expires int64
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		return tx.QueryRowContext(ctx, `
			DELETE FROM activations WHERE code_hash = ? AND expires > ?
			RETURNING username, created, expires, realm`,
			codeHash, micros(now)).Scan(&a.User, &created, &expires, &a.Realm)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return store.Activation{}, fmt.Errorf("consuming activation: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Activation{}, fmt.Errorf("consuming activation: %w", err)
	}
	a.Created, a.Expires = fromMicros(created), fromMicros(expires)
	return a, nil
}
