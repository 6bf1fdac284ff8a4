package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// AppendAuthLog records entry and returns its ID. The entry's own ID is
// ignored. The insert commits on its own, and every connection runs with
// synchronous_commit on (see requireSynchronousCommit), so the entry is
// flushed to disk when this returns.
func (s *Store) AppendAuthLog(ctx context.Context, entry store.AuthLogEntry) (int64, error) {
	groups := entry.Groups
	if groups == nil {
		groups = []string{} // stored as {} rather than NULL
	}
	access := entry.AccessDevice
	var id int64
	err := s.q(ctx).QueryRow(ctx, `
		INSERT INTO auth_log (`+authLogColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12,
			$13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)
		RETURNING id`,
		entry.Time, entry.User, entry.Email, groups, entry.Application,
		entry.Result, entry.Reason, entry.Factor, entry.TrustStatus, entry.IP,
		entry.UserAgent, entry.Detail,
		entry.Mode, entry.WouldBlock, nullList(entry.FailedRequirements), nullList(entry.Warnings),
		entry.DeviceID, jsonText(entry.DeviceFacts), access.Kind, access.OS, access.OSVersion,
		access.Browser, entry.Unbound, entry.Integration).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: %w", err)
	}
	return id, nil
}

// authLogColumns are the columns AppendAuthLog writes and QueryAuthLog reads
// after id, in the order of their values.
const authLogColumns = `at, username, email, group_names, application, result,
	reason, factor, trust_status, ip, user_agent, detail,
	mode, would_block, failed_requirements, warnings, device_id,
	device_facts, access_kind, access_os, access_os_version,
	access_browser, unbound, integration`

// QueryAuthLog returns the entries matching q, highest ID (newest) first.
// Since is inclusive and Until exclusive.
func (s *Store) QueryAuthLog(ctx context.Context, q store.AuthLogQuery) ([]store.AuthLogEntry, error) {
	where, args, limit := q.Where(authLogSQL)
	query := `SELECT id, ` + authLogColumns + ` FROM auth_log`
	if where != "" {
		query += " WHERE " + where
	}
	args = append(args, limit)
	query += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))

	rows, err := s.q(ctx).Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	defer rows.Close()
	var entries []store.AuthLogEntry
	for rows.Next() {
		var e store.AuthLogEntry
		var at pgtype.Timestamptz
		var facts pgtype.Text
		access := &e.AccessDevice
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Email, &e.Groups, &e.Application,
			&e.Result, &e.Reason, &e.Factor, &e.TrustStatus, &e.IP, &e.UserAgent, &e.Detail,
			&e.Mode, &e.WouldBlock, &e.FailedRequirements, &e.Warnings, &e.DeviceID,
			&facts, &access.Kind, &access.OS, &access.OSVersion,
			&access.Browser, &e.Unbound, &e.Integration); err != nil {
			return nil, fmt.Errorf("querying auth log: %w", err)
		}
		e.Time = fromTime(at)
		e.DeviceFacts = fromJSONText(facts)
		e.Groups = nilIfEmpty(e.Groups)
		e.FailedRequirements = nilIfEmpty(e.FailedRequirements)
		e.Warnings = nilIfEmpty(e.Warnings)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	return entries, nil
}

// authLogSQL writes auth-log queries the PostgreSQL way: $n parameters,
// timestamptz times, would_block a boolean.
var authLogSQL = store.AuthLogSQL{
	Param:         func(n int) string { return "$" + strconv.Itoa(n) },
	Time:          func(t time.Time) any { return t },
	WouldBlock:    "would_block",
	NotWouldBlock: "NOT would_block",
}

// nullList stores a nil or empty list of strings as NULL.
func nullList(list []string) any {
	if len(list) == 0 {
		return nil
	}
	return list
}

// nilIfEmpty reads an empty list back as nil, as the store's callers expect
// of a list that was never set.
func nilIfEmpty(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}
