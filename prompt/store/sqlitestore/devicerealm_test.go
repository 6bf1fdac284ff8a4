package sqlitestore

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOpenUpgradesDevicesBeforeRealmsToUnbound: a device and an activation
// code stored before devices had realms (schema 7) come out of the upgraded
// store bound to no realm, so that every site still counts the device.
func TestOpenUpgradesDevicesBeforeRealmsToUnbound(t *testing.T) {
	steps, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 8 || !strings.HasPrefix(steps[7].Name, "0008_") {
		t.Fatalf("migrations = %v, want an eighth step named 0008_*", steps)
	}
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "trustgate.db")
	dsn, err := dataSourceName(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, time.November, 5, 8, 30, 0, 0, time.UTC)
	stmts := []string{fmt.Sprintf("PRAGMA user_version = %d", 7),
		`INSERT INTO devices (id, username, public_key, platform, model, os_version, app_version,
			passcode_secret, created, last_seen, verdict) VALUES ('old-phone', 'alice', '{}', 'android', '', '', '', '', ?, ?, '')`,
		`INSERT INTO activations (code_hash, username, created, expires) VALUES ('old-code', 'alice', ?, ?)`,
	}
	for _, step := range steps[:7] {
		if _, err := db.ExecContext(ctx, step.SQL); err != nil {
			db.Close()
			t.Fatalf("applying %s: %v", step.Name, err)
		}
	}
	for i, stmt := range stmts {
		var args []any
		if i > 0 {
			args = []any{micros(at), micros(at.Add(time.Hour))}
		}
		if _, err := db.ExecContext(ctx, stmt, args...); err != nil {
			db.Close()
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open of a version 7 database: %v", err)
	}
	defer s.Close()
	d, err := s.Device(ctx, "old-phone")
	if err != nil || d.User != "alice" || d.Realm != "" {
		t.Errorf("device stored before realms: %+v, %v; want alice's, bound to none", d, err)
	}
	a, err := s.ConsumeActivation(ctx, "old-code", at.Add(time.Minute))
	if err != nil || a.User != "alice" || a.Realm != "" {
		t.Errorf("activation stored before realms: %+v, %v; want alice's, bound to none", a, err)
	}
}
