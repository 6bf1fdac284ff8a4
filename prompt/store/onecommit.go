package store

import "context"

// OneCommitter is a Store that can run several of its calls as one write:
// they share a transaction and its commit, so a caller that makes them one
// after another waits for one commit, not one each. SQLite, which commits
// one transaction at a time and waits for the disk at every commit, gains
// the most.
type OneCommitter interface {
	// InOneCommit runs fn, whose calls on the store, made with the ctx fn
	// is given (or one derived from it), all run in one transaction. Each
	// call returns its own result as it runs, and sees what the calls
	// before it wrote. InOneCommit returns once the transaction is
	// committed. When fn returns an error, nothing fn wrote is kept and
	// InOneCommit returns that error; when the commit fails, InOneCommit
	// returns the commit's error, and nothing fn wrote is kept either.
	//
	// fn may run while the store holds its write lock: it must not wait
	// for anything but the store, and must not call the store with a ctx
	// not derived from the one it is given.
	InOneCommit(ctx context.Context, fn func(ctx context.Context) error) error
}

// Wrapper is a Store that adds to another store's calls (counting them,
// for example) and forwards them to it. InOneCommit looks through it.
type Wrapper interface {
	// Unwrap returns the store the calls are forwarded to.
	Unwrap() Store
}

// InOneCommit runs fn in one commit when s (a store, or a consumer's
// narrower view of one), or the store it wraps (a
// Wrapper, such as Counted's, unwrapped as far as it goes), is a
// OneCommitter. Otherwise it just calls fn with ctx: its calls then commit
// one by one, as they would without InOneCommit, and an error fn returns
// undoes nothing.
func InOneCommit(ctx context.Context, s any, fn func(ctx context.Context) error) error {
	for s != nil {
		if c, ok := s.(OneCommitter); ok {
			return c.InOneCommit(ctx, fn)
		}
		w, ok := s.(Wrapper)
		if !ok {
			break
		}
		s = w.Unwrap()
	}
	return fn(ctx)
}
