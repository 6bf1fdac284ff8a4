// Package signedin hands the session that the trusted_endpoints handler
// signed in to the handlers after it on the route (the dashboard, package
// admin), in the request's context, which no client can set. It is its
// own package so that the handler and the dashboard share the key without
// either importing the other.
package signedin

import (
	"context"
	"net/http"

	"github.com/trustgate/trustgate/prompt/session"
)

// ctxKey is the context key under which the session travels.
type ctxKey struct{}

// With returns r carrying the signed-in session s.
func With(r *http.Request, s *session.Session) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, s))
}

// Session returns the session a trusted_endpoints handler established for
// r, or nil when no such handler ran before.
func Session(r *http.Request) *session.Session {
	s, _ := r.Context().Value(ctxKey{}).(*session.Session)
	return s
}
