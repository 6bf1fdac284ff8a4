package pgstore

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/trustgate/trustgate/prompt/store"
)

// migrationFiles holds the schema as numbered steps, NNNN_name.sql, applied
// in order. A released step is never edited; a change is a new step.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey is the advisory lock that serializes migrations: the
// bytes of "trustgat". Advisory locks are per database, so instances of
// other deployments on the same server do not wait for each other.
const migrationLockKey int64 = 0x7472757374676174

// loadMigrations returns the embedded steps in order.
func loadMigrations() ([]store.Migration, error) {
	return store.LoadMigrations(migrationFiles, "migrations")
}

// migrate brings the schema up to the latest version. Instances starting at
// once on a new database all migrate: each takes the advisory lock inside
// its transaction, so they run one after another, and every one after the
// first finds the schema current (READ COMMITTED reads what the first
// committed) and has nothing to do. A failed step rolls back every step of
// its run, leaving the schema as it was.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	steps, err := loadMigrations()
	if err != nil {
		return err
	}
	latest := len(steps)

	tx, err := pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("starting migration: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	current, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if current > latest {
		return newerSchemaError(current, latest)
	}
	if current == latest {
		return tx.Commit(ctx)
	}
	if current == 0 {
		if _, err := tx.Exec(ctx, `
			CREATE TABLE IF NOT EXISTS schema_migrations (
				version integer     PRIMARY KEY,
				name    text        NOT NULL,
				applied timestamptz NOT NULL DEFAULT now()
			)`); err != nil {
			return fmt.Errorf("creating schema_migrations: %w", err)
		}
	}
	for _, step := range steps[current:] {
		// No arguments: pgx sends the step with the simple protocol, which
		// runs a file of several statements.
		if _, err := tx.Exec(ctx, step.SQL); err != nil {
			return fmt.Errorf("applying migration %s: %w", step.Name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
			step.Version, step.Name); err != nil {
			return fmt.Errorf("recording migration %s: %w", step.Name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing migration to schema version %d: %w", latest, err)
	}
	return nil
}

// schemaVersion returns the highest schema version recorded in the
// database; 0 for a new database, which has no schema_migrations table.
// to_regclass looks the table up in the search path without failing, and
// without the CREATE privilege that CREATE TABLE IF NOT EXISTS checks.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var version int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&version); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return version, nil
}

// newerSchemaError refuses a database whose schema was written by newer
// code, which this code could misread or damage.
func newerSchemaError(current, latest int) error {
	return fmt.Errorf("database schema version %d is newer than this trustgate supports (%d); run the newer trustgate or restore a backup", current, latest)
}
