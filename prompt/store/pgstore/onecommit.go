package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// inCommitKey is the context key of the transaction an InOneCommit call
// runs in.
type inCommitKey struct{}

// inCommit is the transaction of an InOneCommit call, and its store.
type inCommit struct {
	s  *Store
	tx pgx.Tx
}

// querier is what the store's statements run through: the pool, or the
// transaction of an InOneCommit call.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// InOneCommit runs fn in one transaction: the calls fn makes with the ctx
// it is given run in it and commit together, once fn returns, so the
// caller waits for one commit (and one WAL flush) rather than one each.
// An error fn returns rolls back all it wrote. Called inside another
// InOneCommit on this store, it runs fn in a savepoint of that
// transaction.
//
// In PostgreSQL a failed statement ends the transaction, so a call of fn
// that fails in the database (rather than by finding no row) makes the
// commit fail: InOneCommit then returns an error and nothing is kept.
func (s *Store) InOneCommit(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("starting a transaction: %w", err)
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if err := fn(context.WithValue(ctx, inCommitKey{}, &inCommit{s: s, tx: tx})); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("committing: %w", err)
	}
	return nil
}

// inCommit returns the InOneCommit call ctx is from, if it is this
// store's.
func (s *Store) inCommit(ctx context.Context) *inCommit {
	if c, ok := ctx.Value(inCommitKey{}).(*inCommit); ok && c.s == s {
		return c
	}
	return nil
}

// q returns what a statement with ctx runs through: inside InOneCommit its
// transaction, otherwise the pool.
func (s *Store) q(ctx context.Context) querier {
	if c := s.inCommit(ctx); c != nil {
		return c.tx
	}
	return s.pool
}

// begin starts a transaction of its own, or inside InOneCommit a savepoint
// of its transaction.
func (s *Store) begin(ctx context.Context) (pgx.Tx, error) {
	if c := s.inCommit(ctx); c != nil {
		return c.tx.Begin(ctx)
	}
	return s.pool.Begin(ctx)
}

// inTransaction runs fn in a transaction of its own (inside InOneCommit, a
// savepoint) and commits it when fn returns nil; otherwise it rolls it back
// and returns fn's error.
func (s *Store) inTransaction(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) // after Commit, a no-op
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
