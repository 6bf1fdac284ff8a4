package sqlitestore

import (
	"context"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// RevokeSession records session id as revoked until expires, keeping the
// later expiry of a session revoked twice.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO session_revocations (id, expires) VALUES (?, ?)
			ON CONFLICT (id) DO UPDATE SET expires = max(expires, excluded.expires)`,
			id, micros(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking session: %w", err)
	}
	return nil
}

// RevokeUserSessions moves user's session cutoff to before, unless it is
// already later, and keeps the later expiry. One statement, so concurrent
// revocations in several processes keep the latest cutoff.
func (s *Store) RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO user_session_cutoffs (user_name, before, expires) VALUES (?, ?, ?)
			ON CONFLICT (user_name) DO UPDATE SET
				before = max(before, excluded.before),
				expires = max(expires, excluded.expires)`,
			user, micros(before), micros(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("revoking sessions of user %s: %w", user, err)
	}
	return nil
}

// SessionRevocations returns the revocations that expire after now.
func (s *Store) SessionRevocations(ctx context.Context, now time.Time) (store.Revocations, error) {
	r := store.Revocations{Sessions: map[string]time.Time{}, Users: map[string]store.UserCutoff{}}
	rows, err := s.read(ctx).QueryContext(ctx, `SELECT id, expires FROM session_revocations WHERE expires > ?`, micros(now))
	if err != nil {
		return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
	}
	for rows.Next() {
		var id string
		var expires int64
		if err := rows.Scan(&id, &expires); err != nil {
			rows.Close()
			return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
		}
		r.Sessions[id] = fromMicros(expires)
	}
	if err := rows.Close(); err != nil {
		return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
	}
	if err := rows.Err(); err != nil {
		return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
	}
	rows, err = s.read(ctx).QueryContext(ctx, `SELECT user_name, before, expires FROM user_session_cutoffs WHERE expires > ?`, micros(now))
	if err != nil {
		return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var before, expires int64
		if err := rows.Scan(&user, &before, &expires); err != nil {
			return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
		}
		r.Users[user] = store.UserCutoff{Before: fromMicros(before), Expires: fromMicros(expires)}
	}
	if err := rows.Err(); err != nil {
		return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
	}
	return r, nil
}
