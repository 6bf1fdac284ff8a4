package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// AppendAuthLog records entry and returns its ID. The entry's own ID is
// ignored. With synchronous=FULL the entry is on disk when this returns:
// the writer answers only after the commit that holds it.
func (s *Store) AppendAuthLog(ctx context.Context, entry store.AuthLogEntry) (int64, error) {
	groups := entry.Groups
	if groups == nil {
		groups = []string{} // stored as [] rather than null
	}
	groupsJSON, err := json.Marshal(groups)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: encoding groups: %w", err)
	}
	failed, err := stringListText(entry.FailedRequirements)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: encoding failed requirements: %w", err)
	}
	warnings, err := stringListText(entry.Warnings)
	if err != nil {
		return 0, fmt.Errorf("appending auth log: encoding warnings: %w", err)
	}
	access := entry.AccessDevice
	var id int64
	err = s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO auth_log (`+authLogColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
				?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			micros(entry.Time), entry.User, entry.Email, string(groupsJSON), entry.Application,
			entry.Result, entry.Reason, entry.Factor, entry.TrustStatus, entry.IP,
			entry.UserAgent, entry.Detail,
			entry.Mode, entry.WouldBlock, failed, warnings, entry.DeviceID,
			jsonText(entry.DeviceFacts), access.Kind, access.OS, access.OSVersion,
			access.Browser, entry.Unbound, entry.Integration)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
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
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := s.read(ctx).QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	defer rows.Close()
	var entries []store.AuthLogEntry
	for rows.Next() {
		e, err := scanAuthLogEntry(rows)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("querying auth log: %w", err)
	}
	return entries, nil
}

// authLogSQL writes auth-log queries the SQLite way: ? parameters, times
// in microseconds, would_block an integer.
var authLogSQL = store.AuthLogSQL{
	Param:         func(int) string { return "?" },
	Time:          func(t time.Time) any { return micros(t) },
	WouldBlock:    "would_block = 1",
	NotWouldBlock: "would_block = 0",
}

// scanAuthLogEntry reads one row of authLogColumns, after the ID.
func scanAuthLogEntry(rows *sql.Rows) (store.AuthLogEntry, error) {
	var e store.AuthLogEntry
	var at int64
	var groupsJSON string
	var failed, warnings, facts sql.NullString
	access := &e.AccessDevice
	if err := rows.Scan(&e.ID, &at, &e.User, &e.Email, &groupsJSON, &e.Application,
		&e.Result, &e.Reason, &e.Factor, &e.TrustStatus, &e.IP, &e.UserAgent, &e.Detail,
		&e.Mode, &e.WouldBlock, &failed, &warnings, &e.DeviceID,
		&facts, &access.Kind, &access.OS, &access.OSVersion,
		&access.Browser, &e.Unbound, &e.Integration); err != nil {
		return e, fmt.Errorf("querying auth log: %w", err)
	}
	var err error
	if e.FailedRequirements, err = fromStringListText(failed); err != nil {
		return e, fmt.Errorf("querying auth log: decoding failed requirements of entry %d: %w", e.ID, err)
	}
	if e.Warnings, err = fromStringListText(warnings); err != nil {
		return e, fmt.Errorf("querying auth log: decoding warnings of entry %d: %w", e.ID, err)
	}
	e.DeviceFacts = fromJSONText(facts)
	e.Time = fromMicros(at)
	if err := json.Unmarshal([]byte(groupsJSON), &e.Groups); err != nil {
		return e, fmt.Errorf("querying auth log: decoding groups of entry %d: %w", e.ID, err)
	}
	if len(e.Groups) == 0 {
		e.Groups = nil
	}
	return e, nil
}

// stringListText stores a list of strings as a JSON array in TEXT, and a nil
// or empty one as NULL.
func stringListText(list []string) (sql.NullString, error) {
	if len(list) == 0 {
		return sql.NullString{}, nil
	}
	text, err := json.Marshal(list)
	if err != nil {
		return sql.NullString{}, err
	}
	return sql.NullString{String: string(text), Valid: true}, nil
}

// fromStringListText turns a stored list back into a slice, nil for NULL or
// an empty list.
func fromStringListText(text sql.NullString) ([]string, error) {
	if !text.Valid {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal([]byte(text.String), &list); err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, nil
	}
	return list, nil
}
