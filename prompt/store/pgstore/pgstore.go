// Package pgstore is the store.Store backend for several gateway instances:
// one PostgreSQL database that every instance opens, so that a browser may
// reach instance A while the phone talks to instance B (DESIGN section 5).
//
// Every operation that must have exactly one winner among concurrent callers
// (ConsumeActivation, TransitionTransaction, AnswerPush, UseOnce) is one
// statement whose WHERE clause or conflict target is the whole precondition.
// Under PostgreSQL's default READ COMMITTED isolation a second writer of the
// same row waits for the first to commit and then re-checks the condition
// against the row as the first left it, so it finds nothing left to do.
// Nothing here raises the isolation level, so no call needs retrying.
package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/trustgate/trustgate/prompt/store"
)

// Store is a store.Store kept in a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// where names the database for messages: host and database, never the
	// connection string, which may hold a password.
	where string
}

// Open connects to the PostgreSQL database that dsn names, and brings its
// schema up to date. dsn is a libpq connection string, as a URL
// (postgres://user:password@host:5432/trustgate?sslmode=verify-full) or as
// keyword=value pairs; pgxpool's parameters such as pool_max_conns may be
// added to it. Open fails if the database cannot be reached or holds a
// schema newer than this code knows.
//
// Errors never quote dsn: it may hold a password.
func Open(ctx context.Context, dsn string) (*Store, error) {
	config, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx redacts passwords from its parse errors only as far as it can
		// parse the string, so none of its text is repeated here.
		return nil, errors.New("opening postgres store: the connection string is not valid (its text is not shown, since it may hold a password)")
	}
	where := describe(config.ConnConfig)
	password := config.ConnConfig.Password
	fail := func(err error) error {
		return redact(fmt.Errorf("opening postgres store %s: %w", where, err), password)
	}
	if config.ConnConfig.RuntimeParams == nil {
		config.ConnConfig.RuntimeParams = map[string]string{}
	}
	if _, ok := config.ConnConfig.RuntimeParams["application_name"]; !ok {
		config.ConnConfig.RuntimeParams["application_name"] = "trustgate"
	}
	config.AfterConnect = requireSynchronousCommit

	pool, err := pgxpool.NewWithConfig(ctx, config)
	if err != nil {
		return nil, fail(err)
	}
	// The pool connects lazily; connect now, so that a wrong address or
	// password shows at startup rather than at the first login.
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fail(err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fail(err)
	}
	return &Store{pool: pool, where: where}, nil
}

// requireSynchronousCommit makes every connection wait for its commits to
// be flushed, even where a database or role default turned that off: an
// auth-log entry must be durable before the gateway responds (DESIGN
// section 5). Stronger settings (remote_write, remote_apply) and local are
// kept as they are.
func requireSynchronousCommit(ctx context.Context, conn *pgx.Conn) error {
	_, err := conn.Exec(ctx, `
		SELECT set_config('synchronous_commit', 'on', false)
		WHERE current_setting('synchronous_commit') = 'off'`)
	if err != nil {
		return fmt.Errorf("turning on synchronous_commit: %w", err)
	}
	return nil
}

// describe names the database config points at for messages, without its
// password.
func describe(config *pgx.ConnConfig) string {
	return fmt.Sprintf("%s:%d/%s", config.Host, config.Port, config.Database)
}

// redactedError is an error whose message has had a password masked. It
// still unwraps to the original, so errors.Is and errors.As work.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact masks password wherever it appears in err's message. pgx's own
// errors name the user and database but not the password; this holds even
// if a future pgx, or a server message, quoted it.
func redact(err error, password string) error {
	if err == nil || password == "" || !strings.Contains(err.Error(), password) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), password, "xxxxx"), err: err}
}

// Close closes every connection, waiting for those in use to be released.
// Pending writes have already been committed.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Purge deletes single-use records, activations, transactions and pushes
// that expired before before, and failures recorded before before.
func (s *Store) Purge(ctx context.Context, before time.Time) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("purging: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	for _, p := range []struct{ what, query string }{
		{"single-use ids", `DELETE FROM single_use WHERE expires < $1`},
		{"failures", `DELETE FROM failures WHERE at < $1`},
		{"activations", `DELETE FROM activations WHERE expires < $1`},
		{"transactions", `DELETE FROM transactions WHERE expires < $1`},
		{"pushes", `DELETE FROM pushes WHERE expires < $1`},
		{"session revocations", `DELETE FROM session_revocations WHERE expires < $1`},
		{"user session cutoffs", `DELETE FROM user_session_cutoffs WHERE expires < $1`},
		{"provider sessions", `DELETE FROM provider_sessions WHERE expires < $1`},
	} {
		if _, err := tx.Exec(ctx, p.query, before); err != nil {
			return fmt.Errorf("purging %s: %w", p.what, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("purging: %w", err)
	}
	return nil
}

// nullTime stores the zero time as NULL, for times that are not set yet (a
// device never revoked, never verified).
func nullTime(t time.Time) pgtype.Timestamptz {
	if t.IsZero() {
		return pgtype.Timestamptz{}
	}
	return pgtype.Timestamptz{Time: t, Valid: true}
}

// fromTime turns a stored time into a time.Time in UTC, the zero time for
// NULL. pgx returns times in the local zone.
func fromTime(t pgtype.Timestamptz) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// jsonText stores a JSON document as text, byte for byte, and a nil or
// empty one (which is not a JSON value) as NULL.
func jsonText(doc json.RawMessage) pgtype.Text {
	if len(doc) == 0 {
		return pgtype.Text{}
	}
	return pgtype.Text{String: string(doc), Valid: true}
}

// fromJSONText turns stored JSON back into a json.RawMessage, nil for NULL.
func fromJSONText(doc pgtype.Text) json.RawMessage {
	if !doc.Valid {
		return nil
	}
	return json.RawMessage(doc.String)
}

// insertedOne turns the result of an INSERT ... ON CONFLICT DO NOTHING into
// store.ErrConflict when the row already existed.
func insertedOne(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrConflict
	}
	return nil
}

// updatedOne turns the result of an UPDATE by primary key into
// store.ErrNotFound when no row had that key. PostgreSQL counts every row
// that matched, whether or not its values changed.
func updatedOne(tag pgconn.CommandTag) error {
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// rowScanner is what the scan functions need from a pgx.Row or pgx.Rows.
type rowScanner interface {
	Scan(dest ...any) error
}

// Interface guards
var (
	_ store.Store = (*Store)(nil)
)
