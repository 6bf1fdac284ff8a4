package sqlitestore

import (
	"context"
	"database/sql"
	"sync"
)

// maxReadStatements caps how many distinct reads keep a prepared
// statement. The fixed reads are far fewer; the admin's filtered queries
// (QueryAuthLog, ListDevices) build their text from the filters set, and
// past the cap run unprepared.
const maxReadStatements = 128

// readStatements are the read pool's prepared statements by query text.
// database/sql prepares each on a connection the first time it runs there
// and keeps it, so a hot read is parsed once per connection rather than on
// every call.
type readStatements struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmt returns the prepared statement for query, or nil when the cache is
// full.
func (r *readStatements) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if st, ok := r.m[query]; ok {
		return st, nil
	}
	if len(r.m) >= maxReadStatements {
		return nil, nil
	}
	st, err := r.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if r.m == nil {
		r.m = map[string]*sql.Stmt{}
	}
	r.m[query] = st
	return st, nil
}

// QueryContext runs a read that returns rows.
func (r *readStatements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return r.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext runs a read that returns at most one row.
func (r *readStatements) QueryRowContext(ctx context.Context, query string, args ...any) rowScanner {
	st, err := r.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	if st == nil {
		return r.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// close closes every prepared statement.
func (r *readStatements) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.m {
		st.Close()
	}
	r.m = nil
}
