package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// SigningKeys returns every signing key, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := signingKeys(ctx, s.q(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading signing keys: %w", err)
	}
	return keys, nil
}

// InitSigningKeys stores candidate if no key is stored yet, and returns the
// keys stored. As in InitCookieKeys, the check and the insert run under a
// table lock that conflicts with itself and with every insert, so two
// instances starting at once agree on one key.
func (s *Store) InitSigningKeys(ctx context.Context, candidate store.SigningKey) ([]store.SigningKey, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if _, err := tx.Exec(ctx, `LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO signing_keys (id, private_key, created, activates)
		SELECT $1, $2, $3, $4
		WHERE NOT EXISTS (SELECT 1 FROM signing_keys)`,
		candidate.ID, candidate.PrivateKey, candidate.Created, candidate.Activates)
	if err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	keys, err := signingKeys(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	return keys, nil
}

// AddSigningKey stores key as the newest signing key. It fails if a key with
// the same ID is already stored.
func (s *Store) AddSigningKey(ctx context.Context, key store.SigningKey) error {
	_, err := s.q(ctx).Exec(ctx,
		`INSERT INTO signing_keys (id, private_key, created, activates) VALUES ($1, $2, $3, $4)`,
		key.ID, key.PrivateKey, key.Created, key.Activates)
	if err != nil {
		return fmt.Errorf("adding signing key %s: %w", key.ID, err)
	}
	return nil
}

// signingKeys reads every signing key, newest (highest seq) first.
func signingKeys(ctx context.Context, q rowsQueryer) ([]store.SigningKey, error) {
	rows, err := q.Query(ctx,
		`SELECT id, private_key, created, activates FROM signing_keys ORDER BY seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created, activates pgtype.Timestamptz
		if err := rows.Scan(&k.ID, &k.PrivateKey, &created, &activates); err != nil {
			return nil, err
		}
		k.Created, k.Activates = fromTime(created), fromTime(activates)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
