package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/trustgate/trustgate/prompt/store"
)

// maxBatch caps how many writes share one transaction, so that one commit
// never holds the writers behind it for long.
const maxBatch = 256

// checkpointPages is how many pages the WAL grows to before the writer
// copies them back into the database file (SQLite's default is 1000). The
// same few pages (the tables' and indexes' latest leaves) change at every
// commit; a longer interval copies each of them once for many more
// commits, at the cost of a WAL of up to this many pages (4 KiB each).
const checkpointPages = 8000

// errClosed is what a write gets once the store is closed.
var errClosed = errors.New("sqlite store is closed")

// writer runs every write of a Store on its one connection, committing
// them in groups. SQLite allows one writer at a time and, with
// synchronous=FULL, every commit waits for an fsync of the WAL; most of a
// write's time is that fsync. So the writes that arrive while a commit is
// in progress queue up, and the next transaction runs all of them and
// commits once: one fsync for the group. A write that fails is undone
// alone and the others still commit: SQLite undoes a failed statement by
// itself, and a write of several statements runs in a savepoint (doSteps).
// Each caller hears back only after the commit that made its write
// durable, or with the commit's error if that failed.
//
// Writes queue in Go rather than wait for SQLite's lock, so a busy
// gateway neither spins in the busy handler nor fails with SQLITE_BUSY;
// busy_timeout still applies between processes that share the file.
type writer struct {
	conn *sql.Conn
	// stmts are the writer connection's prepared statements by query
	// text: parsing a statement costs about as much as running it.
	stmts map[string]*sql.Stmt

	ops    chan *writeOp
	quit   chan struct{}
	exited chan struct{}
	stop   sync.Once
}

// writeOp is one caller's write, run by the writer.
type writeOp struct {
	ctx context.Context
	fn  func(ctx context.Context, tx *writeTx) error
	// steps says fn may run several statements, so it runs in a savepoint.
	steps bool
	done  chan error // buffered, so the writer never waits for a caller
}

// writeTx is what a write runs its statements through: the writer's
// connection, inside the group's transaction. Its methods are named like
// those of *sql.DB and *sql.Tx, and use prepared statements.
type writeTx struct {
	w *writer
	// broken is set when a write inside InOneCommit failed in a way that
	// may have ended the transaction: the group must not go on.
	broken error
}

// newWriter starts the writer on its own connection of db.
func newWriter(ctx context.Context, db *sql.DB) (*writer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the writer connection: %w", err)
	}
	// Only the writer commits, so only it checkpoints. See
	// checkpointPages.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", checkpointPages)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("setting the writer's checkpoint interval: %w", err)
	}
	w := &writer{
		conn:   conn,
		stmts:  map[string]*sql.Stmt{},
		ops:    make(chan *writeOp, maxBatch),
		quit:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// do runs fn, a write of one statement (and any reads), and returns once
// it is committed. fn may run with other writes in one transaction: it
// sees what they wrote before it. When fn fails, its statement must have
// changed nothing: it reports a zero-row write (store.ErrConflict,
// store.ErrNotFound, sql.ErrNoRows) or SQLite's constraint error, which
// undoes the statement. Any other error undoes the whole group, whose
// writes then all fail. The ctx fn is given
// is the group's, not the caller's: one caller that hangs up must not
// interrupt the others. A caller whose ctx is done before its write runs
// gets ctx's error and changes nothing; one whose ctx ends while it waits
// for the commit gets ctx's error too, and its write may or may not have
// been committed, as with any database.
func (w *writer) do(ctx context.Context, fn func(ctx context.Context, tx *writeTx) error) error {
	return w.queue(ctx, &writeOp{ctx: ctx, fn: fn})
}

// doSteps is do for a write of several statements: they run in a
// savepoint, so that a failure undoes all of them and nothing else.
func (w *writer) doSteps(ctx context.Context, fn func(ctx context.Context, tx *writeTx) error) error {
	return w.queue(ctx, &writeOp{ctx: ctx, fn: fn, steps: true})
}

// queue hands op to the writer and waits for its answer. Inside
// InOneCommit, it runs op at once, in the transaction already open.
func (w *writer) queue(ctx context.Context, op *writeOp) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if tx := w.inCommit(ctx); tx != nil {
		return tx.run(ctx, op)
	}
	op.done = make(chan error, 1)
	select {
	case w.ops <- op:
	case <-w.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-op.done:
		return err
	case <-w.exited:
		// The writer answered every write it took before it stopped.
		select {
		case err := <-op.done:
			return err
		default:
			return errClosed
		}
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run takes the writes as they come, all that are waiting at once, until
// the writer is closed.
func (w *writer) run() {
	defer close(w.exited)
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case op := <-w.ops:
			batch = append(batch[:0], op)
		case <-w.quit:
			w.refuseQueued()
			return
		}
	gather:
		for len(batch) < maxBatch {
			select {
			case op := <-w.ops:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		w.commit(batch)
		clear(batch)
	}
}

// refuseQueued answers the writes still queued when the writer stops.
func (w *writer) refuseQueued() {
	for {
		select {
		case op := <-w.ops:
			op.done <- errClosed
		default:
			return
		}
	}
}

// commit runs batch in one transaction and answers each write.
func (w *writer) commit(batch []*writeOp) {
	ctx := context.Background()
	tx := &writeTx{w: w}
	errs := make([]error, len(batch))
	if _, err := tx.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		for _, op := range batch {
			op.done <- fmt.Errorf("starting write transaction: %w", err)
		}
		return
	}
	wrote := false
	for i, op := range batch {
		if err := op.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !op.steps {
			errs[i] = op.fn(ctx, tx)
			if errs[i] != nil && !changedNothing(errs[i]) {
				w.abort(batch, errs, fmt.Errorf("another write of its group failed: %w", errs[i]))
				return
			}
			wrote = wrote || errs[i] == nil
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
			w.abort(batch, errs, fmt.Errorf("starting savepoint: %w", err))
			return
		}
		errs[i] = op.fn(ctx, tx)
		if tx.broken != nil {
			w.abort(batch, errs, fmt.Errorf("another write of its group failed: %w", tx.broken))
			return
		}
		if errs[i] != nil {
			// Undo this write alone. If that fails, the transaction is
			// in an unknown state: give up on the whole group.
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO write"); err != nil {
				w.abort(batch, errs, fmt.Errorf("undoing a failed write: %w", err))
				return
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE write"); err != nil {
			w.abort(batch, errs, fmt.Errorf("releasing savepoint: %w", err))
			return
		}
		wrote = wrote || errs[i] == nil
	}
	end := "COMMIT"
	if !wrote {
		end = "ROLLBACK"
	}
	if _, err := tx.ExecContext(ctx, end); err != nil {
		w.abort(batch, errs, fmt.Errorf("committing: %w", err))
		return
	}
	for i, op := range batch {
		op.done <- errs[i]
	}
}

// run runs op in the transaction already open, inside InOneCommit: a write
// of several statements in a savepoint of its own.
func (t *writeTx) run(ctx context.Context, op *writeOp) error {
	if !op.steps {
		err := op.fn(ctx, t)
		if err != nil && !changedNothing(err) {
			t.broken = err
		}
		return err
	}
	if _, err := t.ExecContext(ctx, "SAVEPOINT write"); err != nil {
		t.broken = err
		return fmt.Errorf("starting savepoint: %w", err)
	}
	err := op.fn(ctx, t)
	if err != nil {
		if _, rerr := t.ExecContext(ctx, "ROLLBACK TO write"); rerr != nil {
			t.broken = rerr
			return errors.Join(err, fmt.Errorf("undoing a failed write: %w", rerr))
		}
	}
	if _, rerr := t.ExecContext(ctx, "RELEASE write"); rerr != nil {
		t.broken = rerr
		return errors.Join(err, fmt.Errorf("releasing savepoint: %w", rerr))
	}
	return err
}

// changedNothing reports whether err, from a write of one statement,
// leaves the transaction as it was: a write that matched no row, or a
// constraint failure, which SQLite undoes by itself. Other errors (I/O, a
// full disk) may have rolled back the whole transaction.
func changedNothing(err error) bool {
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) || errors.Is(err, sql.ErrNoRows) {
		return true
	}
	var serr *sqlite.Error
	return errors.As(err, &serr) && serr.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// abort rolls back the group's transaction and answers every write that
// had not failed on its own with err.
func (w *writer) abort(batch []*writeOp, errs []error, err error) {
	// SQLite may have rolled back already (an I/O error does); then this
	// fails, harmlessly.
	_, _ = w.conn.ExecContext(context.Background(), "ROLLBACK")
	for i, op := range batch {
		if errs[i] == nil {
			errs[i] = err
		}
		op.done <- errs[i]
	}
}

// close stops the writer once the write in progress is done, and closes
// its connection.
func (w *writer) close() error {
	w.stop.Do(func() { close(w.quit) })
	<-w.exited
	var errs []error
	for _, st := range w.stmts {
		errs = append(errs, st.Close())
	}
	errs = append(errs, w.conn.Close())
	return errors.Join(errs...)
}

// stmt returns the writer's prepared statement for query, preparing it on
// first use.
func (w *writer) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	st, err := w.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// ExecContext runs a statement that returns no rows.
func (t *writeTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryContext runs a statement that returns rows.
func (t *writeTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a statement that returns at most one row.
func (t *writeTx) QueryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	st, err := t.w.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// errRow is a row whose query could not be prepared.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
