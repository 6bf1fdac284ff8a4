package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// RolloutImpact streams the would-block entries of the window through a
// store.RolloutTally, reading only the columns it sums, as the SQLite store
// does, so that both count alike. The partial index auth_log_would_block
// holds just those rows, so the cost is one pass over the would-block
// entries (not the whole log), and memory grows with the distinct users,
// not the entries.
func (s *Store) RolloutImpact(ctx context.Context, q store.RolloutQuery) (store.RolloutImpact, error) {
	where := []string{"would_block"}
	var args []any
	filter := func(column, op string, arg any) {
		args = append(args, arg)
		where = append(where, column+" "+op+" $"+strconv.Itoa(len(args)))
	}
	if !q.Since.IsZero() {
		filter("at", ">=", q.Since)
	}
	if !q.Until.IsZero() {
		filter("at", "<", q.Until)
	}
	if q.Application != "" {
		filter("application", "=", q.Application)
	}
	rows, err := s.q(ctx).Query(ctx, `
		SELECT username, email, application, group_names, reason, failed_requirements, access_os
		FROM auth_log WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
	}
	defer rows.Close()
	tally := store.RolloutTally{Authorized: q.Authorized}
	for rows.Next() {
		var e store.AuthLogEntry
		if err := rows.Scan(&e.User, &e.Email, &e.Application, &e.Groups, &e.Reason, &e.FailedRequirements, &e.AccessDevice.OS); err != nil {
			return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
		}
		tally.Add(e)
	}
	if err := rows.Err(); err != nil {
		return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
	}
	return tally.Impact(), nil
}
