package pgstore

import (
	"context"
	"fmt"
	"time"
)

// UseOnce records id as consumed and reports whether this call was the first
// to do so. The insert is one statement: a concurrent insert of the same id
// waits for the first to commit and then does nothing, so of any number of
// callers, on any number of instances, exactly one inserts the row.
func (s *Store) UseOnce(ctx context.Context, id string, expires time.Time) (bool, error) {
	tag, err := s.q(ctx).Exec(ctx,
		`INSERT INTO single_use (id, expires) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`,
		id, expires)
	if err != nil {
		return false, fmt.Errorf("using single-use id: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
