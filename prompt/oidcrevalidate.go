package prompt

import (
	"context"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// recheckRetry is how soon a session whose check could not be made (the
// provider or the store unreachable) and that fail mode safe or check
// kept is checked again, so a provider that is down is not asked on every
// request.
const recheckRetry = time.Minute

// revalidate asks the provider whether the person of s may still sign in,
// once per session at a time, and returns the session to carry on with
// (its cookie re-issued with the next check time), or nil when the
// request has been answered: the person was signed out, or the check
// could not be made and fail mode secure refuses.
func (g *Gate) revalidate(w http.ResponseWriter, r *http.Request, s *session.Session) *session.Session {
	out := g.oidcSessions().Recheck(r.Context(), signin.SessionToCheck{
		ID: s.ID, ProviderRef: s.ProviderRef, Expires: s.Expires(),
		Identity: signin.Identity{User: s.User, Email: s.Email, Groups: s.Groups},
	}, revalidationHost{g: g, r: r, sessionID: s.ID})
	now := g.cfg.Now()
	switch {
	case out.Refused:
		g.endSession(w, r)
		g.requireLogin(w, r)
		return nil
	case out.Err != nil && g.cfg.FailMode == FailSecure:
		g.writeError(w, r, errProviderUnreachable(w))
		return nil
	}
	id := s.Identity
	id.Email, id.Groups = out.Identity.Email, out.Identity.Groups
	id.RecheckAt = now.Add(g.cfg.OIDCRevalidate).Unix()
	if out.Err != nil {
		// Fail mode safe or check: keep the session, ask again soon.
		id.RecheckAt = now.Add(min(recheckRetry, g.cfg.OIDCRevalidate)).Unix()
	}
	next, err := g.sessions.Renew(w, r, s, id)
	if err != nil {
		g.writeError(w, r, errInternal("encoding session", err))
		return nil
	}
	return next
}

// revalidationHost acts for revalidation on the gate, for request r of
// session sessionID.
type revalidationHost struct {
	g         *Gate
	r         *http.Request
	sessionID string
}

// EndSession revokes one session that cannot be revalidated.
func (h revalidationHost) EndSession(ctx context.Context, id string, expires time.Time) {
	g := h.g
	if err := g.cfg.Revocations.RevokeSession(ctx, g.cfg.Store, id, expires); err != nil {
		if !session.IsStoredButNotAnnounced(err) {
			g.storeFailed("revoking session", err)
		}
		session.LogRevocationError(g.cfg.Logger, "ending a session that cannot be revalidated", err, zap.String("session_id", id))
	}
}

// EndUserSessions signs a person the provider refused out everywhere.
func (h revalidationHost) EndUserSessions(ctx context.Context, user string) {
	g := h.g
	if err := g.cfg.Revocations.RevokeUserSessions(ctx, g.cfg.Store, user, g.cfg.Now()); err != nil {
		if !session.IsStoredButNotAnnounced(err) {
			g.storeFailed("revoking user sessions", err)
		}
		session.LogRevocationError(g.cfg.Logger, "signing out a person the provider refused", err,
			zap.String("user", user), zap.String("session_id", h.sessionID))
	}
}

// RecordRefusal writes the auth-log entry of a person the provider refused.
func (h revalidationHost) RecordRefusal(id signin.Identity, why error) {
	_ = h.g.record(h.r, store.AuthLogEntry{User: id.User, Email: id.Email, Groups: id.Groups,
		Result: store.ResultDenied, Reason: reasonProviderRefused, Factor: "oidc", Detail: truncate(why.Error(), 256)})
}

// errProviderUnreachable is the answer to a request whose session could
// not be checked with the provider, under fail mode secure.
func errProviderUnreachable(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "60")
	web.NoStore(w)
	return &web.Error{Status: http.StatusServiceUnavailable, Code: "provider_unreachable",
		Message: "Your sign-in must be checked with the identity provider, which cannot be reached right now. Please try again in a minute.",
		Err:     &pageCause{title: "Sign-in provider unreachable"}}
}

// Interface guards.
var _ signin.RevalidationHost = revalidationHost{}
