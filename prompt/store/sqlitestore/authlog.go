package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// defaultQueryLimit caps QueryAuthLog when the query sets no limit.
const defaultQueryLimit = 100

// AppendAuthLog records entry and returns its ID. The entry's own ID is
// ignored. With synchronous=FULL the entry is on disk when this returns.
func (s *Store) AppendAuthLog(ctx context.Context, entry store.AuthLogEntry) (int64, error) {
	groups := entry.Groups
	if groups == nil {
		groups = []string{} // stored as [] rather than null
	}
	groupsJSON, err := json.Marshal(groups)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: encoding groups: %w", err)
	}
	res, err := s.db.ExecContext(ctx, `
		INSERT INTO auth_log (at, username, email, group_names, application, result,
			reason, factor, trust_status, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		micros(entry.Time), entry.User, entry.Email, string(groupsJSON), entry.Application,
		entry.Result, entry.Reason, entry.Factor, entry.TrustStatus, entry.IP,
		entry.UserAgent, entry.Detail)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("appending auth log: %w", err)
	}
	return id, nil
}

// QueryAuthLog returns the entries matching q, highest ID (newest) first.
// Since is inclusive and Until exclusive.
func (s *Store) QueryAuthLog(ctx context.Context, q store.AuthLogQuery) ([]store.AuthLogEntry, error) {
	var where []string
	var args []any
	filter := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if q.User != "" {
		filter("username = ?", q.User)
	}
	if q.Application != "" {
		filter("application = ?", q.Application)
	}
	if q.Result != "" {
		filter("result = ?", q.Result)
	}
	if q.Reason != "" {
		filter("reason = ?", q.Reason)
	}
	if !q.Since.IsZero() {
		filter("at >= ?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		filter("at < ?", micros(q.Until))
	}
	if q.BeforeID != 0 {
		filter("id < ?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = defaultQueryLimit
	}

	query := `SELECT id, at, username, email, group_names, application, result,
		reason, factor, trust_status, ip, user_agent, detail FROM auth_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	defer rows.Close()
	var entries []store.AuthLogEntry
	for rows.Next() {
		var e store.AuthLogEntry
		var at int64
		var groupsJSON string
		if err := rows.Scan(&e.ID, &at, &e.User, &e.Email, &groupsJSON, &e.Application,
			&e.Result, &e.Reason, &e.Factor, &e.TrustStatus, &e.IP, &e.UserAgent, &e.Detail); err != nil {
			return nil, fmt.Errorf("querying auth log: %w", err)
		}
		e.Time = fromMicros(at)
		if err := json.Unmarshal([]byte(groupsJSON), &e.Groups); err != nil {
			return nil, fmt.Errorf("querying auth log: decoding groups of entry %d: %w", e.ID, err)
		}
		if len(e.Groups) == 0 {
			e.Groups = nil
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	return entries, nil
}
