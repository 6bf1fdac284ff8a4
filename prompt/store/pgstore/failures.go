package pgstore

import (
	"context"
	"fmt"
	"time"
)

// AddFailure records one failed attempt under key.
func (s *Store) AddFailure(ctx context.Context, key string, at time.Time) error {
	if _, err := s.q(ctx).Exec(ctx,
		`INSERT INTO failures (key, at) VALUES ($1, $2)`, key, at); err != nil {
		return fmt.Errorf("recording failure: %w", err)
	}
	return nil
}

// CountFailures returns how many failures were recorded under key at or
// after since.
func (s *Store) CountFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := s.q(ctx).QueryRow(ctx,
		`SELECT count(*) FROM failures WHERE key = $1 AND at >= $2`, key, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting failures: %w", err)
	}
	return n, nil
}

// ClearFailures forgets every failure recorded under key.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	if _, err := s.q(ctx).Exec(ctx, `DELETE FROM failures WHERE key = $1`, key); err != nil {
		return fmt.Errorf("clearing failures: %w", err)
	}
	return nil
}
