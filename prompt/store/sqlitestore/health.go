package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
)

// DeviceHealthHistory returns the device's health reports, newest first,
// by the device_health_device_at index.
func (s *Store) DeviceHealthHistory(ctx context.Context, id string, limit int) ([]store.HealthRecord, error) {
	rows, err := s.read(ctx).QueryContext(ctx, `
		SELECT at, health, verdict FROM device_health
		WHERE device_id = ? ORDER BY at DESC, seq DESC LIMIT ?`,
		id, store.HealthHistoryLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("loading health history of device %s: %w", id, err)
	}
	defer rows.Close()
	var history []store.HealthRecord
	for rows.Next() {
		var r store.HealthRecord
		var at int64
		var health sql.NullString
		if err := rows.Scan(&at, &health, &r.Verdict); err != nil {
			return nil, fmt.Errorf("loading health history of device %s: %w", id, err)
		}
		r.At, r.Health = fromMicros(at), fromJSONText(health)
		history = append(history, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("loading health history of device %s: %w", id, err)
	}
	return history, nil
}
