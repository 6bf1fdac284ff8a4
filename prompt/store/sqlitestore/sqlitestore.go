// Package sqlitestore is the embedded store.Store backend: one SQLite file,
// by default in Caddy's data directory, opened with the pure-Go
// modernc.org/sqlite driver so that the gateway needs no cgo and no setup.
//
// A Store writes through one connection that commits the writes arriving
// together as one transaction (see writer), and reads through a small pool
// of others; in WAL mode the readers never wait for the writer.
//
// Several Store handles, in one process or several, may open the same file;
// they then behave as gateway instances sharing a database. SQLite serializes
// their writes: every write transaction starts with BEGIN IMMEDIATE, and a
// writer that finds the database locked waits up to busyTimeout before it
// fails.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trustgate/trustgate/prompt/store"
)

// busyTimeout is how long a statement waits for another connection's write
// lock before failing with SQLITE_BUSY. Writes are short, so reaching it
// means something is wrong rather than merely busy.
const busyTimeout = 5 * time.Second

// readConns is how many connections serve reads at once. Reads are short
// and run in the gateway's own process, so a few per CPU keep every CPU
// busy; more would only be opened and closed again.
const readConns = 8

// Store is a store.Store kept in one SQLite database file.
type Store struct {
	// db is the pool: migrations run on it, the writer holds one of its
	// connections for good, and reads use the others through reads.
	db     *sql.DB
	reads  *readStatements
	writes *writer
	path   string
}

// Open opens the SQLite database at path, creating it and its parent
// directories (mode 0700) if they do not exist, and brings its schema up to
// date. It fails if the file is not a SQLite database or holds a schema newer
// than this code knows.
func Open(path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating directory for sqlite store: %w", err)
	}
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	ctx := context.Background()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, explain(err))
	}
	if err := enableWAL(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, explain(err))
	}
	// The writer's connection and the readers', all kept open: a
	// connection closed and opened again reads the schema again.
	db.SetMaxOpenConns(readConns + 1)
	db.SetMaxIdleConns(readConns + 1)
	w, err := newWriter(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return &Store{db: db, reads: &readStatements{db: db}, writes: w, path: path}, nil
}

// dataSourceName returns the driver's name for the database at path, with
// the settings every connection needs. The settings are DSN parameters, not
// statements run after opening, because database/sql opens new connections
// whenever its pool needs them.
func dataSourceName(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	// A file: URI, so that a '?' or '#' in the path is escaped rather than
	// taken for the start of the parameters.
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter
	}
	params := url.Values{
		"_busy_timeout": {strconv.FormatInt(busyTimeout.Milliseconds(), 10)},
		// In WAL mode (see enableWAL), NORMAL syncs only at checkpoints, so
		// a committed transaction can be lost if the machine loses power.
		// FULL syncs the WAL at every commit, which is what makes an auth-log
		// entry durable before the gateway responds (DESIGN section 5).
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		// Take the write lock when a transaction begins. A deferred
		// transaction that reads and then writes cannot wait for the lock:
		// SQLite fails it with SQLITE_BUSY at once if another connection
		// wrote in between, whatever the busy timeout.
		"_txlock": {"immediate"},
	}
	u := url.URL{Scheme: "file", Path: p, RawQuery: params.Encode()}
	return u.String(), nil
}

// enableWAL switches the database to write-ahead logging, which lets readers
// proceed while one connection writes. The mode is kept in the file, so one
// switch serves every later connection and process.
//
// It is not a DSN parameter because switching a new file to WAL upgrades a
// read lock to a write lock, which SQLite does not retry under busy_timeout:
// two processes opening a new file at once would get SQLITE_BUSY at once. So
// it is retried here, for as long as busy_timeout would have waited.
func enableWAL(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	delay := time.Millisecond
	for {
		var mode string
		err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode)
		if err == nil {
			if !strings.EqualFold(mode, "wal") {
				return fmt.Errorf("enabling WAL journal: journal mode is still %s", mode)
			}
			return nil
		}
		if !isBusy(err) || time.Now().Add(delay).After(deadline) {
			return fmt.Errorf("enabling WAL journal: %w", err)
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("enabling WAL journal: %w", ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// isBusy reports whether err is SQLite's "database is locked".
func isBusy(err error) bool {
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_BUSY
}

// explain adds a plain-words reason to the errors an operator can cause by
// pointing the store at the wrong file.
func explain(err error) error {
	var serr *sqlite.Error
	if errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_NOTADB {
		return fmt.Errorf("file is not a SQLite database: %w", err)
	}
	return err
}

// Close closes the database. Writes already acknowledged have been
// committed; a write still queued fails.
func (s *Store) Close() error {
	werr := s.writes.close()
	s.reads.close()
	if err := errors.Join(werr, s.db.Close()); err != nil {
		return fmt.Errorf("closing sqlite store %s: %w", s.path, err)
	}
	return nil
}

// Purge deletes single-use records, activations, transactions and pushes
// that expired before before, and failures recorded before before.
func (s *Store) Purge(ctx context.Context, before time.Time) error {
	err := s.writes.doSteps(ctx, func(ctx context.Context, tx *writeTx) error {
		return purge(ctx, tx, micros(before))
	})
	if err != nil {
		return fmt.Errorf("purging: %w", err)
	}
	return nil
}

// purge is Purge's deletions, in the writer's transaction.
func purge(ctx context.Context, tx *writeTx, cutoff int64) error {
	for _, p := range []struct{ what, query string }{
		{"single-use ids", `DELETE FROM single_use WHERE expires < ?`},
		{"failures", `DELETE FROM failures WHERE at < ?`},
		{"activations", `DELETE FROM activations WHERE expires < ?`},
		{"transactions", `DELETE FROM transactions WHERE expires < ?`},
		{"pushes", `DELETE FROM pushes WHERE expires < ?`},
		{"session revocations", `DELETE FROM session_revocations WHERE expires < ?`},
		{"user session cutoffs", `DELETE FROM user_session_cutoffs WHERE expires < ?`},
		{"provider sessions", `DELETE FROM provider_sessions WHERE expires < ?`},
	} {
		if _, err := tx.ExecContext(ctx, p.query, cutoff); err != nil {
			return fmt.Errorf("%s: %w", p.what, err)
		}
	}
	return nil
}

// micros is how times are stored: microseconds since the Unix epoch, which
// int64 holds for every year from 1 to 9999 (and more than that).
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros turns a stored time back into a time.Time in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// nullMicros stores the zero time as NULL, for times that are not set yet
// (a device never revoked, never verified).
func nullMicros(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(t), Valid: true}
}

// fromNullMicros turns a stored, possibly NULL time back into a time.Time in
// UTC, or the zero time for NULL.
func fromNullMicros(us sql.NullInt64) time.Time {
	if !us.Valid {
		return time.Time{}
	}
	return fromMicros(us.Int64)
}

// jsonText stores a JSON document as TEXT, as given, and a nil or empty one
// (which is not a JSON value) as NULL.
func jsonText(doc json.RawMessage) sql.NullString {
	if len(doc) == 0 {
		return sql.NullString{}
	}
	return sql.NullString{String: string(doc), Valid: true}
}

// fromJSONText turns stored JSON back into a json.RawMessage, nil for NULL.
func fromJSONText(doc sql.NullString) json.RawMessage {
	if !doc.Valid {
		return nil
	}
	return json.RawMessage(doc.String)
}

// rowScanner is what the scan functions need from a *sql.Row or *sql.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// Interface guards
var (
	_ store.Store = (*Store)(nil)
)
