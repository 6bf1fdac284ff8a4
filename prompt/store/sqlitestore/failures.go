package sqlitestore

import (
	"context"
	"fmt"
	"time"
)

// AddFailure records one failed attempt under key.
func (s *Store) AddFailure(ctx context.Context, key string, at time.Time) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO failures (key, at) VALUES (?, ?)`, key, micros(at))
		return err
	})
	if err != nil {
		return fmt.Errorf("recording failure: %w", err)
	}
	return nil
}

// CountFailures returns how many failures were recorded under key at or
// after since.
func (s *Store) CountFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	if err := s.read(ctx).QueryRowContext(ctx,
		`SELECT count(*) FROM failures WHERE key = ? AND at >= ?`, key, micros(since)).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting failures: %w", err)
	}
	return n, nil
}

// ClearFailures forgets every failure recorded under key.
func (s *Store) ClearFailures(ctx context.Context, key string) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM failures WHERE key = ?`, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("clearing failures: %w", err)
	}
	return nil
}
