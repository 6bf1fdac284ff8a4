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
// not the entries. The trusted desktop logins of mode check, which block
// would let in, are a second pass over the window's entries (found by the
// index on at).
func (s *Store) RolloutImpact(ctx context.Context, q store.RolloutQuery) (store.RolloutImpact, error) {
	var window []string
	var args []any
	filter := func(column, op string, arg any) {
		args = append(args, arg)
		window = append(window, column+" "+op+" $"+strconv.Itoa(len(args)))
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
	tally := store.RolloutTally{Authorized: q.Authorized}
	wouldBlock := strings.Join(append([]string{"would_block"}, window...), " AND ")
	if err := s.tallyRollout(ctx, wouldBlock, args, tally.Add); err != nil {
		return store.RolloutImpact{}, err
	}
	trustedDesktop := strings.Join(append([]string{"NOT would_block", "mode = 'check'", "trust_status = 'trusted'",
		"access_kind = '" + store.AccessKindDesktop + "'"}, window...), " AND ")
	if err := s.tallyRollout(ctx, trustedDesktop, args, tally.AddTrustedDesktop); err != nil {
		return store.RolloutImpact{}, err
	}
	return tally.Impact(), nil
}

// tallyRollout hands every entry matching where, with the columns the
// tally reads, to add.
func (s *Store) tallyRollout(ctx context.Context, where string, args []any, add func(store.AuthLogEntry)) error {
	rows, err := s.q(ctx).Query(ctx, `
		SELECT username, email, application, group_names, reason, failed_requirements, access_os, access_kind
		FROM auth_log WHERE `+where, args...)
	if err != nil {
		return fmt.Errorf("summing rollout impact: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e store.AuthLogEntry
		if err := rows.Scan(&e.User, &e.Email, &e.Application, &e.Groups, &e.Reason, &e.FailedRequirements, &e.AccessDevice.OS, &e.AccessDevice.Kind); err != nil {
			return fmt.Errorf("summing rollout impact: %w", err)
		}
		add(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("summing rollout impact: %w", err)
	}
	return nil
}
