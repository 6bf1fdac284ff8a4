package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
)

// migrationFiles holds the schema as numbered steps, NNNN_name.sql, applied
// in order. A released step is never edited; a change is a new step.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations returns the embedded steps in order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
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
		if _, err := tx.ExecContext(ctx, step.SQL); err != nil {
			return fmt.Errorf("applying migration %s: %w", step.Name, err)
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
