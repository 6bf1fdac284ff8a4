package sqlitestore

import (
	"context"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
)

// SigningKeys returns every signing key, newest first.
func (s *Store) SigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	keys, err := signingKeys(ctx, s.read(ctx))
	if err != nil {
		return nil, fmt.Errorf("loading signing keys: %w", err)
	}
	return keys, nil
}

// InitSigningKeys stores candidate if no key is stored yet, and returns the
// keys stored. As in InitCookieKeys, the check and the insert share one
// BEGIN IMMEDIATE transaction, so two instances starting at once agree.
func (s *Store) InitSigningKeys(ctx context.Context, candidate store.SigningKey) ([]store.SigningKey, error) {
	var keys []store.SigningKey
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO signing_keys (id, private_key, created, activates)
			SELECT ?, ?, ?, ?
			WHERE NOT EXISTS (SELECT 1 FROM signing_keys)`,
			candidate.ID, candidate.PrivateKey, micros(candidate.Created), micros(candidate.Activates))
		if err != nil {
			return err
		}
		keys, err = signingKeys(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("initializing signing keys: %w", err)
	}
	return keys, nil
}

// AddSigningKey stores key as the newest signing key. It fails if a key with
// the same ID is already stored.
func (s *Store) AddSigningKey(ctx context.Context, key store.SigningKey) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx,
			`INSERT INTO signing_keys (id, private_key, created, activates) VALUES (?, ?, ?, ?)`,
			key.ID, key.PrivateKey, micros(key.Created), micros(key.Activates))
		return err
	})
	if err != nil {
		return fmt.Errorf("adding signing key %s: %w", key.ID, err)
	}
	return nil
}

// signingKeys reads every signing key, newest (highest seq) first.
func signingKeys(ctx context.Context, q rowsQueryer) ([]store.SigningKey, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT id, private_key, created, activates FROM signing_keys ORDER BY seq DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var created, activates int64
		if err := rows.Scan(&k.ID, &k.PrivateKey, &created, &activates); err != nil {
			return nil, err
		}
		k.Created, k.Activates = fromMicros(created), fromMicros(activates)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}
