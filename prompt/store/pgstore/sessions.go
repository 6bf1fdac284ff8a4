package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// RevokeSession records session id as revoked until expires, keeping the
// later expiry of a session revoked twice.
func (s *Store) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `
		INSERT INTO session_revocations (id, expires) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET expires = GREATEST(session_revocations.expires, EXCLUDED.expires)`,
		id, expires)
	if err != nil {
		return fmt.Errorf("revoking session: %w", err)
	}
	return nil
}

// RevokeUserSessions moves user's session cutoff to before, unless it is
// already later, and keeps the later expiry. One statement, so concurrent
// revocations on several instances keep the latest cutoff.
func (s *Store) RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error {
	_, err := s.q(ctx).Exec(ctx, `
		INSERT INTO user_session_cutoffs (user_name, before, expires) VALUES ($1, $2, $3)
		ON CONFLICT (user_name) DO UPDATE SET
			before = GREATEST(user_session_cutoffs.before, EXCLUDED.before),
			expires = GREATEST(user_session_cutoffs.expires, EXCLUDED.expires)`,
		user, before, expires)
	if err != nil {
		return fmt.Errorf("revoking sessions of user %s: %w", user, err)
	}
	return nil
}

// SessionRevocations returns the revocations that expire after now.
func (s *Store) SessionRevocations(ctx context.Context, now time.Time) (store.Revocations, error) {
	r := store.Revocations{Sessions: map[string]time.Time{}, Users: map[string]store.UserCutoff{}}
	rows, err := s.q(ctx).Query(ctx, `SELECT id, expires FROM session_revocations WHERE expires > $1`, now)
	if err != nil {
		return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
	}
	for rows.Next() {
		var id string
		var expires time.Time
		if err := rows.Scan(&id, &expires); err != nil {
			rows.Close()
			return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
		}
		r.Sessions[id] = expires.UTC()
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return store.Revocations{}, fmt.Errorf("loading session revocations: %w", err)
	}
	rows, err = s.q(ctx).Query(ctx, `SELECT user_name, before, expires FROM user_session_cutoffs WHERE expires > $1`, now)
	if err != nil {
		return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var user string
		var before, expires time.Time
		if err := rows.Scan(&user, &before, &expires); err != nil {
			return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
		}
		r.Users[user] = store.UserCutoff{Before: before.UTC(), Expires: expires.UTC()}
	}
	if err := rows.Err(); err != nil {
		return store.Revocations{}, fmt.Errorf("loading user session cutoffs: %w", err)
	}
	return r, nil
}
