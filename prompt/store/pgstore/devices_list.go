package pgstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// ListDevices returns the devices matching q by ID. IDs compare byte-wise
// (COLLATE "C"), as SQLite compares them, whatever the database's
// collation; the sort is over the rows left after filtering, one per phone.
// Every filter but OSOlderThan is SQL; that one is applied by
// store.CollectDevices.
func (s *Store) ListDevices(ctx context.Context, q store.DeviceQuery) ([]store.Device, error) {
	var where []string
	var args []any
	filter := func(column, op string, arg any) {
		args = append(args, arg)
		where = append(where, column+" "+op+" $"+strconv.Itoa(len(args)))
	}
	if q.User != "" {
		filter("username", "=", q.User)
	}
	if q.Platform != "" {
		filter("platform", "=", q.Platform)
	}
	if q.Trusted != nil {
		if *q.Trusted {
			filter("verdict", "=", "trusted")
		} else {
			filter("verdict", "<>", "trusted")
		}
	}
	if !q.SeenAfter.IsZero() {
		filter("coalesce(last_seen, created)", ">=", q.SeenAfter)
	}
	if !q.SeenBefore.IsZero() {
		filter("coalesce(last_seen, created)", "<", q.SeenBefore)
	}
	if !q.IncludeRevoked {
		where = append(where, "revoked IS NULL")
	}
	devices, err := store.CollectDevices(q, func(after string, n int) ([]store.Device, error) {
		batchArgs := append(args[:len(args):len(args)], after, n)
		conds := append(where[:len(where):len(where)],
			`id COLLATE "C" > $`+strconv.Itoa(len(batchArgs)-1))
		query := `SELECT ` + deviceColumns + ` FROM devices WHERE ` + strings.Join(conds, " AND ") +
			` ORDER BY id COLLATE "C" LIMIT $` + strconv.Itoa(len(batchArgs))
		rows, err := s.q(ctx).Query(ctx, query, batchArgs...)
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
