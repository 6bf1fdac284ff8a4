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
// distinct users, not the entries. The trusted desktop logins of mode
// check, which block would let in, are a second pass over the window's
// entries (found by the index on at).
func (s *Store) RolloutImpact(ctx context.Context, q store.RolloutQuery) (store.RolloutImpact, error) {
	var window []string
	var args []any
	if !q.Since.IsZero() {
		window = append(window, "at >= ?")
		args = append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		window = append(window, "at < ?")
		args = append(args, micros(q.Until))
	}
	if q.Application != "" {
		window = append(window, "application = ?")
		args = append(args, q.Application)
	}
	tally := store.RolloutTally{Authorized: q.Authorized}
	wouldBlock := strings.Join(append([]string{"would_block = 1"}, window...), " AND ")
	if err := s.tallyRollout(ctx, wouldBlock, args, tally.Add); err != nil {
		return store.RolloutImpact{}, err
	}
	trustedDesktop := strings.Join(append([]string{"would_block = 0", "mode = 'check'", "trust_status = 'trusted'",
		"access_kind = '" + store.AccessKindDesktop + "'"}, window...), " AND ")
	if err := s.tallyRollout(ctx, trustedDesktop, args, tally.AddTrustedDesktop); err != nil {
		return store.RolloutImpact{}, err
	}
	return tally.Impact(), nil
}

// tallyRollout hands every entry matching where, with the columns the
// tally reads, to add.
func (s *Store) tallyRollout(ctx context.Context, where string, args []any, add func(store.AuthLogEntry)) error {
	rows, err := s.read(ctx).QueryContext(ctx, `
		SELECT username, email, application, group_names, reason, failed_requirements, access_os, access_kind
		FROM auth_log WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("summing rollout impact: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AuthLogEntry
		var groupsJSON string
		var failed sql.NullString
		if err := rows.Scan(&e.User, &e.Email, &e.Application, &groupsJSON, &e.Reason, &failed, &e.AccessDevice.OS, &e.AccessDevice.Kind); err != nil {
			return fmt.Errorf("summing rollout impact: %w", err)
		}
		if err := json.Unmarshal([]byte(groupsJSON), &e.Groups); err != nil {
			return fmt.Errorf("summing rollout impact: decoding groups: %w", err)
		}
		if e.FailedRequirements, err = fromStringListText(failed); err != nil {
			return fmt.Errorf("summing rollout impact: decoding failed requirements: %w", err)
		}
		add(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summing rollout impact: %w", err)
	}
	return nil
}
