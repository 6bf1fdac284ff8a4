package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
)

// PutProviderSession stores ps, replacing any record of its session.
func (s *Store) PutProviderSession(ctx context.Context, ps store.ProviderSession) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO provider_sessions (session_id, tokens, expires) VALUES (?, ?, ?)
			ON CONFLICT (session_id) DO UPDATE SET tokens = excluded.tokens, expires = excluded.expires`,
			ps.SessionID, ps.Tokens, micros(ps.Expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("storing provider session: %w", err)
	}
	return nil
}

// ProviderSession returns the record of session id.
func (s *Store) ProviderSession(ctx context.Context, id string) (store.ProviderSession, error) {
	ps := store.ProviderSession{SessionID: id}
	var expires int64
	err := s.read(ctx).QueryRowContext(ctx,
		`SELECT tokens, expires FROM provider_sessions WHERE session_id = ?`, id).Scan(&ps.Tokens, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ProviderSession{}, fmt.Errorf("loading provider session: %w", store.ErrNotFound)
	}
	if err != nil {
		return store.ProviderSession{}, fmt.Errorf("loading provider session: %w", err)
	}
	ps.Expires = fromMicros(expires)
	return ps, nil
}

// DeleteProviderSession forgets session id's record.
func (s *Store) DeleteProviderSession(ctx context.Context, id string) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM provider_sessions WHERE session_id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("deleting provider session: %w", err)
	}
	return nil
}
