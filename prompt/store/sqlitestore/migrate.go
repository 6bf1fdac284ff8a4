package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// migrationFiles holds the schema as numbered steps, NNNN_name.sql, applied
// in order. A released step is never edited; a change is a new step.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema step. Applying steps 1..version gives the schema of
// that version, which the database records in PRAGMA user_version.
type migration struct {
	name string
	sql  string
}

// loadMigrations returns the embedded steps in order, and fails unless they
// are numbered 1, 2, 3... without gaps.
func loadMigrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("reading migrations: %w", err)
	}
	var steps []migration
	for _, e := range entries { // ReadDir sorts by name
		prefix, _, ok := strings.Cut(e.Name(), "_")
		version, err := strconv.Atoi(prefix)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name does not start with NNNN_", e.Name())
		}
		if want := len(steps) + 1; version != want {
			return nil, fmt.Errorf("migration %s: version %d, want %d", e.Name(), version, want)
		}
		text, err := fs.ReadFile(migrationFiles, "migrations/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		steps = append(steps, migration{name: e.Name(), sql: string(text)})
	}
	return steps, nil
}

// migrate brings the schema of db up to the latest version. Two processes
// may migrate the same new file at once: the steps run in one BEGIN
// IMMEDIATE transaction, which the second process enters only after the
// first has committed, and it then finds nothing left to do.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := loadMigrations()
	if err != nil {
		return err
	}
	latest := len(steps)

	// Most opens find the schema current; check without taking the write
	// lock, so that starting an instance does not stall the others.
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if current > latest {
		return newerSchemaError(current, latest)
	}
	if current == latest {
		return nil
	}

	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE, from the DSN
	if err != nil {
		return fmt.Errorf("starting migration: %w", err)
	}
	defer tx.Rollback()
	// Another process may have migrated since the check above.
	if current, err = schemaVersion(ctx, tx); err != nil {
		return err
	}
	if current > latest {
		return newerSchemaError(current, latest)
	}
	if current == latest {
		return nil
	}
	for _, step := range steps[current:] {
		if _, err := tx.ExecContext(ctx, step.sql); err != nil {
			return fmt.Errorf("applying migration %s: %w", step.name, err)
		}
	}
	// PRAGMA takes no parameters; latest is an int, so this is not injectable.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", latest)); err != nil {
		return fmt.Errorf("recording schema version %d: %w", latest, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("committing migration to schema version %d: %w", latest, err)
	}
	return nil
}

// queryer is what schemaVersion needs from a *sql.DB or *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// schemaVersion returns the schema version recorded in the database; 0 for a
// new file.
func schemaVersion(ctx context.Context, q queryer) (int, error) {
	var version int
	if err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return version, nil
}

// newerSchemaError refuses a database whose schema was written by newer
// code, which this code could misread or damage.
func newerSchemaError(current, latest int) error {
	return fmt.Errorf("database schema version %d is newer than this trustgate supports (%d); run the newer trustgate or restore a backup", current, latest)
}
