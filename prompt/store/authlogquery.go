package store

import (
	"strings"
	"time"
)

// DefaultAuthLogLimit is how many entries AuthLogQuery returns when it
// sets no Limit.
const DefaultAuthLogLimit = 100

// AuthLogSQL is how a SQL backend writes an auth-log query: Param returns
// the placeholder of the nth argument (1-based: "?" or "$n"), Time turns
// a time into the value the column holds, and WouldBlock and NotWouldBlock
// are the literal conditions of that filter (literals rather than
// parameters, so that the planner can use the partial index on
// would_block).
type AuthLogSQL struct {
	Param                     func(n int) string
	Time                      func(time.Time) any
	WouldBlock, NotWouldBlock string
}

// Where returns q's conditions joined with AND (empty without any), the
// arguments they take, and the row limit, written the backend's way; both
// backends build their query from it, so that they filter alike.
func (q AuthLogQuery) Where(dialect AuthLogSQL) (where string, args []any, limit int) {
	var conds []string
	filter := func(column, op string, arg any) {
		args = append(args, arg)
		conds = append(conds, column+" "+op+" "+dialect.Param(len(args)))
	}
	for _, f := range []struct{ column, value string }{
		{"username", q.User},
		{"application", q.Application},
		{"result", q.Result},
		{"reason", q.Reason},
		{"factor", q.Factor},
		{"trust_status", q.TrustStatus},
		{"integration", q.Integration},
	} {
		if f.value != "" {
			filter(f.column, "=", f.value)
		}
	}
	if q.WouldBlock != nil {
		if *q.WouldBlock {
			conds = append(conds, dialect.WouldBlock)
		} else {
			conds = append(conds, dialect.NotWouldBlock)
		}
	}
	if !q.Since.IsZero() {
		filter("at", ">=", dialect.Time(q.Since))
	}
	if !q.Until.IsZero() {
		filter("at", "<", dialect.Time(q.Until))
	}
	if q.BeforeID != 0 {
		filter("id", "<", q.BeforeID)
	}
	limit = q.Limit
	if limit <= 0 {
		limit = DefaultAuthLogLimit
	}
	return strings.Join(conds, " AND "), args, limit
}
