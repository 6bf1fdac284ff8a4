package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/trustgate/trustgate/prompt/store"
)

// deviceColumns are the columns scanDevice reads, in its order.
const deviceColumns = `id, username, public_key, platform, model, os_version, app_version,
	passcode_secret, created, last_seen, revoked, health, verdict, verified_at, realm`

// CreateDevice stores d. ON CONFLICT DO NOTHING makes a duplicate ID a
// zero-row insert rather than a constraint error, so that it can be told
// apart from every other failure.
func (s *Store) CreateDevice(ctx context.Context, d store.Device) error {
	tag, err := s.q(ctx).Exec(ctx, `
		INSERT INTO devices (`+deviceColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO NOTHING`,
		d.ID, d.User, jsonText(d.PublicKey), d.Platform, d.Model, d.OSVersion, d.AppVersion,
		d.PasscodeSecret, d.Created, nullTime(d.LastSeen), nullTime(d.Revoked),
		jsonText(d.Health), d.Verdict, nullTime(d.VerifiedAt), d.Realm)
	if err != nil {
		return fmt.Errorf("creating device %s: %w", d.ID, err)
	}
	if err := insertedOne(tag); err != nil {
		return fmt.Errorf("creating device %s: %w", d.ID, err)
	}
	return nil
}

// Device returns the device id, revoked or not.
func (s *Store) Device(ctx context.Context, id string) (store.Device, error) {
	d, err := scanDevice(s.q(ctx).QueryRow(ctx,
		`SELECT `+deviceColumns+` FROM devices WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	rows, err := s.q(ctx).Query(ctx,
		`SELECT `+deviceColumns+` FROM devices WHERE username = $1 ORDER BY created, seq`, user)
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
// to the device's health history, in one statement (and so one
// transaction): the history row is inserted only when the device exists.
// The statement's subqueries see the history as it was before the insert,
// so keeping store.HealthHistoryKept-1 of those reports leaves
// store.HealthHistoryKept with the new one.
// LastSeen moves to at unless the device was already seen later: requests
// of one device may finish out of order. greatest ignores NULL, and a
// concurrent update of the same row is re-evaluated against the row it
// left, so the latest time wins whatever the order of commits.
func (s *Store) RecordHealth(ctx context.Context, id string, health json.RawMessage, verdict string, at time.Time) error {
	var n int
	err := s.q(ctx).QueryRow(ctx, `
		WITH updated AS (
			UPDATE devices SET health = $1, verdict = $2, verified_at = $3,
				last_seen = greatest(last_seen, $3)
			WHERE id = $4
			RETURNING id
		), recorded AS (
			INSERT INTO device_health (device_id, at, health, verdict)
			SELECT id, $3, $1, $2 FROM updated
		), trimmed AS (
			DELETE FROM device_health WHERE seq = ANY(ARRAY(
				SELECT seq FROM device_health
				WHERE device_id = (SELECT id FROM updated)
				ORDER BY at DESC, seq DESC OFFSET $5))
		)
		SELECT count(*) FROM updated`,
		jsonText(health), verdict, at, id, store.HealthHistoryKept-1).Scan(&n)
	if err != nil {
		return fmt.Errorf("recording health of device %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("recording health of device %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// RevokeDevice marks the device revoked at at, keeping an earlier
// revocation's time.
func (s *Store) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	tag, err := s.q(ctx).Exec(ctx,
		`UPDATE devices SET revoked = coalesce(revoked, $1) WHERE id = $2`, at, id)
	if err != nil {
		return fmt.Errorf("revoking device %s: %w", id, err)
	}
	if err := updatedOne(tag); err != nil {
		return fmt.Errorf("revoking device %s: %w", id, err)
	}
	return nil
}

// scanDevice reads one row of deviceColumns.
func scanDevice(row rowScanner) (store.Device, error) {
	var d store.Device
	var publicKey, health pgtype.Text
	var created, lastSeen, revoked, verifiedAt pgtype.Timestamptz
	if err := row.Scan(&d.ID, &d.User, &publicKey, &d.Platform, &d.Model, &d.OSVersion,
		&d.AppVersion, &d.PasscodeSecret, &created, &lastSeen, &revoked, &health,
		&d.Verdict, &verifiedAt, &d.Realm); err != nil {
		return store.Device{}, err
	}
	d.PublicKey = fromJSONText(publicKey)
	d.Created = fromTime(created)
	d.LastSeen = fromTime(lastSeen)
	d.Revoked = fromTime(revoked)
	d.Health = fromJSONText(health)
	d.VerifiedAt = fromTime(verifiedAt)
	return d, nil
}
