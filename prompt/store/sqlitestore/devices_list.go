package sqlitestore

import (
	"context"
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// ListDevices returns the devices matching q by ID, using the primary key
// for the cursor. Every filter but OSOlderThan is SQL; that one is applied
// by store.CollectDevices.
func (s *Store) ListDevices(ctx context.Context, q store.DeviceQuery) ([]store.Device, error) {
	var where []string
	var args []any
	filter := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if q.User != "" {
		filter("username = ?", q.User)
	}
	if q.Platform != "" {
		filter("platform = ?", q.Platform)
	}
	if q.Trusted != nil {
		if *q.Trusted {
			filter("verdict = ?", "trusted")
		} else {
			filter("verdict <> ?", "trusted")
		}
	}
	if !q.SeenAfter.IsZero() {
		filter("coalesce(last_seen, created) >= ?", micros(q.SeenAfter))
	}
	if !q.SeenBefore.IsZero() {
		filter("coalesce(last_seen, created) < ?", micros(q.SeenBefore))
	}
	if !q.IncludeRevoked {
		where = append(where, "revoked IS NULL")
	}
	devices, err := store.CollectDevices(q, func(after string, n int) ([]store.Device, error) {
		conds := append(where[:len(where):len(where)], "id > ?")
		query := `SELECT ` + deviceColumns + ` FROM devices WHERE ` + strings.Join(conds, " AND ") +
			` ORDER BY id LIMIT ?`
		rows, err := s.read(ctx).QueryContext(ctx, query, append(args[:len(args):len(args)], after, n)...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var batch []store.Device
		for rows.Next() {
			d, err := scanDevice(rows)
			if err != nil {
				return nil, err
			}
			batch = append(batch, d)
		}
		return batch, rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("listing devices: %w", err)
	}
	return devices, nil
}
