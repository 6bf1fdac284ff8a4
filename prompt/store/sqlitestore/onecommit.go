package sqlitestore

import (
	"context"
	"database/sql"
)

// inCommitKey is the context key of the writer transaction an InOneCommit
// call runs in.
type inCommitKey struct{}

// InOneCommit runs fn as one write of the writer: the calls fn makes with
// the ctx it is given run directly in the writer's transaction, one after
// another, rather than queue for a transaction of their own; they commit
// together, once fn returns. fn runs in a savepoint, so an error it returns
// undoes all it wrote and nothing else. Called inside another InOneCommit
// on this store, it runs fn there, in a savepoint of its own.
//
// The ctx fn gets keeps ctx's values but not its cancellation: one
// caller's hang-up must not interrupt the transaction it shares with
// others. A ctx already done before fn runs still stops it.
func (s *Store) InOneCommit(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.writes.doSteps(ctx, func(_ context.Context, tx *writeTx) error {
		return fn(context.WithValue(context.WithoutCancel(ctx), inCommitKey{}, tx))
	})
}

// inCommit returns the writer transaction of the InOneCommit call ctx is
// from, if it is this writer's.
func (w *writer) inCommit(ctx context.Context) *writeTx {
	if tx, ok := ctx.Value(inCommitKey{}).(*writeTx); ok && tx.w == w {
		return tx
	}
	return nil
}

// reader is what the store's reads run through.
type reader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) rowScanner
}

// read returns what a read with ctx runs through: inside InOneCommit the
// writer's transaction, so that it sees what the calls before it wrote,
// otherwise the read pool.
func (s *Store) read(ctx context.Context) reader {
	if tx := s.writes.inCommit(ctx); tx != nil {
		return tx
	}
	return s.reads
}
