package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/prompt/store"
)

// PutProviderSession stores ps, replacing any record of its session.
func (s *Store) PutProviderSession(ctx context.Context, ps store.ProviderSession) error {
	_, err := s.q(ctx).Exec(ctx, `
		INSERT INTO provider_sessions (session_id, tokens, expires) VALUES ($1, $2, $3)
		ON CONFLICT (session_id) DO UPDATE SET tokens = EXCLUDED.tokens, expires = EXCLUDED.expires`,
		ps.SessionID, ps.Tokens, ps.Expires)
	if err != nil {
		return fmt.Errorf("storing provider session: %w", err)
	}
	return nil
}

// ProviderSession returns the record of session id.
func (s *Store) ProviderSession(ctx context.Context, id string) (store.ProviderSession, error) {
	ps := store.ProviderSession{SessionID: id}
	var expires time.Time
	err := s.q(ctx).QueryRow(ctx,
		`SELECT tokens, expires FROM provider_sessions WHERE session_id = $1`, id).Scan(&ps.Tokens, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ProviderSession{}, fmt.Errorf("loading provider session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.ProviderSession{}, fmt.Errorf("loading provider session: %w", err)
	}
	ps.Expires = expires.UTC()
	return ps, nil
}

// DeleteProviderSession forgets session id's record.
func (s *Store) DeleteProviderSession(ctx context.Context, id string) error {
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM provider_sessions WHERE session_id = $1`, id); err != nil {
		return fmt.Errorf("deleting provider session: %w", err)
	}
	return nil
}
