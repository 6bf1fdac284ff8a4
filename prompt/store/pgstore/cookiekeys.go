package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// CookieKeys returns every cookie key pair, newest first.
func (s *Store) CookieKeys(ctx context.Context) ([]store.CookieKey, error) {
	keys, err := cookieKeys(ctx, s.q(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading cookie keys: %w", err)
	}
	return keys, nil
}

// InitCookieKeys stores candidate if no key is stored yet, and returns the
// keys stored. Under READ COMMITTED two transactions could both find the
// table empty and both insert, so the check and the insert run under a
// table lock that conflicts with itself and with every insert, but not
// with readers: of two instances starting at once, the second waits for
// the first to commit and then finds its key.
func (s *Store) InitCookieKeys(ctx context.Context, candidate store.CookieKey) ([]store.CookieKey, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if _, err := tx.Exec(ctx, `LOCK TABLE cookie_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO cookie_keys (id, hash_key, block_key, created)
		SELECT $1, $2, $3, $4
		WHERE NOT EXISTS (SELECT 1 FROM cookie_keys)`,
		candidate.ID, candidate.HashKey, candidate.BlockKey, candidate.Created)
	if err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	keys, err := cookieKeys(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	return keys, nil
}

// AddCookieKey stores key as the newest key pair. It fails if a key with the
// same ID is already stored.
func (s *Store) AddCookieKey(ctx context.Context, key store.CookieKey) error {
	_, err := s.q(ctx).Exec(ctx,
		`INSERT INTO cookie_keys (id, hash_key, block_key, created) VALUES ($1, $2, $3, $4)`,
		key.ID, key.HashKey, key.BlockKey, key.Created)
	if err != nil {
		return fmt.Errorf("adding cookie key %s: %w", key.ID, err)
	}
	return nil
}

// rowsQueryer is what cookieKeys needs from a pool or a transaction.
type rowsQueryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// cookieKeys reads every key pair, newest (highest seq) first.
func cookieKeys(ctx context.Context, q rowsQueryer) ([]store.CookieKey, error) {
	rows, err := q.Query(ctx,
		`SELECT id, hash_key, block_key, created FROM cookie_keys ORDER BY seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.CookieKey
	for rows.Next() {
		var k store.CookieKey
		var created pgtype.Timestamptz
		if err := rows.Scan(&k.ID, &k.HashKey, &k.BlockKey, &created); err != nil {
			return nil, err
		}
		k.Created = fromTime(created)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
