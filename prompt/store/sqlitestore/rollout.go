package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// RolloutImpact streams the would-block entries of the window through a
// store.RolloutTally, reading only the columns it sums. The partial index
// auth_log_would_block holds just those rows, so the cost is one pass over
// the would-block entries (not the whole log), and memory grows with the
// distinct users, not the entries.
func (s *Store) RolloutImpact(ctx context.Context, q store.RolloutQuery) (store.RolloutImpact, error) {
	where := []string{"would_block = 1"}
	var args []any
	if !q.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, micros(q.Until))
	}
	if q.Application != "" {
		where = append(where, "application = ?")
		args = append(args, q.Application)
	}
	rows, err := s.read(ctx).QueryContext(ctx, `
		SELECT username, email, application, group_names, reason, failed_requirements, access_os
		FROM auth_log WHERE `+strings.Join(where, " AND "), args...)
	if err != nil {
		return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
	}
	defer rows.Close()
	tally := store.RolloutTally{Authorized: q.Authorized}
	for rows.Next() {
		var e store.AuthLogEntry
		var groupsJSON string
		var failed sql.NullString
		if err := rows.Scan(&e.User, &e.Email, &e.Application, &groupsJSON, &e.Reason, &failed, &e.AccessDevice.OS); err != nil {
			return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
		}
		if err := json.Unmarshal([]byte(groupsJSON), &e.Groups); err != nil {
			return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: decoding groups: %w", err)
		}
		if e.FailedRequirements, err = fromStringListText(failed); err != nil {
			return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: decoding failed requirements: %w", err)
		}
		tally.Add(e)
	}
	if err := rows.Err(); err != nil {
		return store.RolloutImpact{}, fmt.Errorf("summing rollout impact: %w", err)
	}
	return tally.Impact(), nil
}
