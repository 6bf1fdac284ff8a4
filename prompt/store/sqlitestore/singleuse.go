package sqlitestore

import (
	"context"
	"fmt"
	"time"
)

// UseOnce records id as consumed and reports whether this call was the first
// to do so. The insert is one statement, which SQLite runs under the
// database's write lock (and the writer runs one write at a time), so of any number of concurrent callers, in any
// number of processes, exactly one inserts the row.
func (s *Store) UseOnce(ctx context.Context, id string, expires time.Time) (bool, error) {
	var n int64
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx,
			`INSERT INTO single_use (id, expires) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
			id, micros(expires))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("using single-use id: %w", err)
	}
	return n == 1, nil
}
