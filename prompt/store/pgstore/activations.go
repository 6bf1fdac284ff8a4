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

// CreateActivation stores a. A code hash already stored gives
// store.ErrConflict.
func (s *Store) CreateActivation(ctx context.Context, a store.Activation) error {
	tag, err := s.q(ctx).Exec(ctx, `
		INSERT INTO activations (code_hash, username, created, expires, realm)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (code_hash) DO NOTHING`,
		a.CodeHash, a.User, a.Created, a.Expires, a.Realm)
	if err != nil {
		return fmt.Errorf("creating activation: %w", err)
	}
	if err := insertedOne(tag); err != nil {
		return fmt.Errorf("creating activation: %w", err)
	}
	return nil
}

// ConsumeActivation deletes the activation and returns it, if it has not
// expired at now. The delete is one statement: a concurrent caller waits on
// the row lock of the first, then finds the row gone, so exactly one gets
// it back. Expired activations stay until Purge, and are not found.
// Messages carry no code hash: it would let a reader of the log match codes.
func (s *Store) ConsumeActivation(ctx context.Context, codeHash string, now time.Time) (store.Activation, error) {
	a := store.Activation{CodeHash: codeHash}
	var created, expires pgtype.Timestamptz
	err := s.q(ctx).QueryRow(ctx, `
		DELETE FROM activations WHERE code_hash = $1 AND expires > $2
		RETURNING username, created, expires, realm`,
		codeHash, now).Scan(&a.User, &created, &expires, &a.Realm)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Activation{}, fmt.Errorf("consuming activation: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.Activation{}, fmt.Errorf("consuming activation: %w", err)
	}
	a.Created, a.Expires = fromTime(created), fromTime(expires)
	return a, nil
}
