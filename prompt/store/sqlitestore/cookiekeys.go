package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
)

// CookieKeys returns every cookie key pair, newest first.
func (s *Store) CookieKeys(ctx context.Context) ([]store.CookieKey, error) {
	keys, err := cookieKeys(ctx, s.read(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading cookie keys: %w", err)
	}
	return keys, nil
}

// InitCookieKeys stores candidate if no key is stored yet, and returns the
// keys stored. The check and the insert share one BEGIN IMMEDIATE
// transaction, so of two instances starting at once only the first to take
// the write lock inserts, and the other reads its key.
func (s *Store) InitCookieKeys(ctx context.Context, candidate store.CookieKey) ([]store.CookieKey, error) {
	var keys []store.CookieKey
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO cookie_keys (id, hash_key, block_key, created)
			SELECT ?, ?, ?, ?
			WHERE NOT EXISTS (SELECT 1 FROM cookie_keys)`,
			candidate.ID, candidate.HashKey, candidate.BlockKey, micros(candidate.Created))
		if err != nil {
			return err
		}
		keys, err = cookieKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("initializing cookie keys: %w", err)
	}
	return keys, nil
}

// AddCookieKey stores key as the newest key pair. It fails if a key with the
// same ID is already stored.
func (s *Store) AddCookieKey(ctx context.Context, key store.CookieKey) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO cookie_keys (id, hash_key, block_key, created) VALUES (?, ?, ?, ?)`,
			key.ID, key.HashKey, key.BlockKey, micros(key.Created))
		return err
	})
	if err != nil {
		return fmt.Errorf("adding cookie key %s: %w", key.ID, err)
	}
	return nil
}

// rowsQueryer is what cookieKeys needs from the reads or the writer.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// cookieKeys reads every key pair, newest (highest seq) first.
func cookieKeys(ctx context.Context, q rowsQueryer) ([]store.CookieKey, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id, hash_key, block_key, created FROM cookie_keys ORDER BY seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.CookieKey
	for rows.Next() {
		var k store.CookieKey
		var created int64
		if err := rows.Scan(&k.ID, &k.HashKey, &k.BlockKey, &created); err != nil {
			return nil, err
		}
		k.Created = fromMicros(created)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
