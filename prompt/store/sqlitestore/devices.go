package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// deviceColumns are the columns scanDevice reads, in its order.
const deviceColumns = `id, username, public_key, platform, model, os_version, app_version,
	passcode_secret, created, last_seen, revoked, health, verdict, verified_at, realm`

// CreateDevice stores d. ON CONFLICT DO NOTHING makes a duplicate ID a
// zero-row insert rather than a constraint error, so that it can be told
// apart from every other failure.
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO devices (`+deviceColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`,
			d.ID, d.User, jsonText(d.PublicKey), d.Platform, d.Model, d.OSVersion, d.AppVersion,
			d.PasscodeSecret, micros(d.Created), nullMicros(d.LastSeen), nullMicros(d.Revoked),
			jsonText(d.Health), d.Verdict, nullMicros(d.VerifiedAt), d.Realm)
		if err != nil {
			return err
		}
		return insertedOne(res)
	})
	if err != nil {
		return fmt.Errorf("creating device %s: %w", d.ID, err)
	}
	return nil
}

// Device returns the device id, revoked or not.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(s.read(ctx).QueryRowContext(ctx,
		`SELECT `+deviceColumns+` FROM devices WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Device{}, fmt.Errorf("loading device %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return store.Device{}, fmt.Errorf("loading device %s: %w", id, err)
	}
	return d, nil
}

// UserDevices returns user's devices by Created, oldest first; devices
// created in the same microsecond come in the order they were stored.
func (s *Store) UserDevices(ctx context.Context, user string) ([]store.Device, error) {
	rows, err := s.read(ctx).QueryContext(ctx,
		`SELECT `+deviceColumns+` FROM devices WHERE username = ? ORDER BY created, rowid`, user)
	if err != nil {
		return nil, fmt.Errorf("listing devices of %s: %w", user, err)
	}
	defer rows.Close()
	var devices []store.Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, fmt.Errorf("listing devices of %s: %w", user, err)
		}
		devices = append(devices, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing devices of %s: %w", user, err)
	}
	return devices, nil
}

// RecordHealth stores the device's latest report and verdict, and adds it
// to the device's health history, dropping the oldest reports beyond
// store.HealthHistoryKept, in one transaction. LastSeen moves to at
// unless the device was already seen later: requests of one device may
// finish out of order.
func (s *Store) RecordHealth(ctx context.Context, id string, health json.RawMessage, verdict string, at time.Time) error {
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		return recordHealth(ctx, tx, id, health, verdict, at)
	})
	if err != nil {
		return fmt.Errorf("recording health of device %s: %w", id, err)
	}
	return nil
}

// recordHealth is RecordHealth's statements, in the writer's transaction.
func recordHealth(ctx context.Context, tx *writeTx, id string, health json.RawMessage, verdict string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `
		UPDATE devices SET health = ?1, verdict = ?2, verified_at = ?3,
			last_seen = max(coalesce(last_seen, ?3), ?3)
		WHERE id = ?4`,
		jsonText(health), verdict, micros(at), id)
	if err != nil {
		return err
	}
	if err := updatedOne(res); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO device_health (device_id, at, health, verdict) VALUES (?, ?, ?, ?)`,
		id, micros(at), jsonText(health), verdict); err != nil {
		return fmt.Errorf("adding to health history: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM device_health WHERE device_id = ?1 AND seq IN (
			SELECT seq FROM device_health WHERE device_id = ?1
			ORDER BY at DESC, seq DESC LIMIT -1 OFFSET ?2)`,
		id, store.HealthHistoryKept); err != nil {
		return fmt.Errorf("trimming health history: %w", err)
	}
	return nil
}

// RevokeDevice marks the device revoked at at, keeping an earlier
// revocation's time.
func (s *Store) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	err := s.writes.do(ctx, func(ctx context.Context, tx *writeTx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE devices SET revoked = coalesce(revoked, ?) WHERE id = ?`, micros(at), id)
		if err != nil {
			return err
		}
		return updatedOne(res)
	})
	if err != nil {
		return fmt.Errorf("revoking device %s: %w", id, err)
	}
	return nil
}

// scanDevice reads one row of deviceColumns.
func scanDevice(row rowScanner) (store.Device, error) {
	var d store.Device
	var publicKey, health sql.NullString
	var created int64
	var lastSeen, revoked, verifiedAt sql.NullInt64
	if err := row.Scan(&d.ID, &d.User, &publicKey, &d.Platform, &d.Model, &d.OSVersion,
		&d.AppVersion, &d.PasscodeSecret, &created, &lastSeen, &revoked, &health,
		&d.Verdict, &verifiedAt, &d.Realm); err != nil {
		return store.Device{}, err
	}
	d.PublicKey = fromJSONText(publicKey)
	d.Created = fromMicros(created)
	d.LastSeen = fromNullMicros(lastSeen)
	d.Revoked = fromNullMicros(revoked)
	d.Health = fromJSONText(health)
	d.VerifiedAt = fromNullMicros(verifiedAt)
	return d, nil
}

// insertedOne turns the result of an INSERT ... ON CONFLICT DO NOTHING into
// store.ErrConflict when the row already existed.
func insertedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrConflict
	}
	return nil
}

// updatedOne turns the result of an UPDATE by primary key into
// store.ErrNotFound when no row had that key. SQLite counts every row that
// matched, whether or not its values changed.
func updatedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
