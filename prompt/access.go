package prompt

import (
	"net/http"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// refusalLogSize is how many sessions a gate remembers having logged as
// refused by its access rules. A session forgotten (evicted, or on another
// instance, or after a restart) is logged once more; a refused person's
// requests never write to storage one by one.
const refusalLogSize = 10000

// refusalLog remembers which sessions' refusals are in the auth log, so
// that a person refused by the access rules makes one not_authorized entry
// per session (per instance), not one per request.
type refusalLog struct {
	logged *lru.Cache[string, struct{}]
}

// newRefusalLog returns the refusal log of a gate with access rules a, or
// nil without rules.
func newRefusalLog(a *policy.Access) (*refusalLog, error) {
	if a == nil {
		return nil, nil
	}
	logged, err := lru.New[string, struct{}](refusalLogSize)
	if err != nil {
		return nil, err
	}
	return &refusalLog{logged: logged}, nil
}

// first reports whether the refusal of sessionID is new to this gate, and
// remembers it.
func (l *refusalLog) first(sessionID string) bool {
	seen, _ := l.logged.ContainsOrAdd(sessionID, struct{}{})
	return !seen
}

// refuseAccess answers a signed-in request of a person the access rules do
// not let in: a 403 page naming the application, with whom to ask and a
// way to sign out (to switch account), or a 403 JSON body for an API
// client. Nothing of it goes further: no device check, no push, no
// upstream.
func (g *Gate) refuseAccess(w http.ResponseWriter, r *http.Request, s *session.Session) {
	if g.refusals.first(s.ID) {
		g.recordRefusal(r, s.Identity, s.Factor)
	}
	application := g.application(r)
	if !web.WantsPage(r) {
		web.WriteJSON(w, http.StatusForbidden, map[string]string{
			"error":       "not authorized",
			"application": application,
		})
		return
	}
	g.pages.Forbidden(w, r, application, s.User, s.CSRF, g.cfg.AccessContact)
}

// recordRefusal writes the not_authorized entry of a person the access
// rules refuse. A refusal grants nothing, so a failed write refuses all
// the same (and is logged).
func (g *Gate) recordRefusal(r *http.Request, id session.Identity, factor string) {
	err := g.record(r, store.AuthLogEntry{
		User: id.User, Email: id.Email, Groups: id.Groups,
		Result: store.ResultDenied, Reason: reasonNotAuthorized, Factor: factor,
	})
	g.storeFailed("recording refusal", err)
}

// completeRefusedLogin ends the primary login of a person the access rules
// refuse. They are signed in (so that the page can offer to sign out and
// switch account, and a later change of the rules needs no new sign-in)
// but with no device trust, and sent back where they were going, which
// answers 403: no loop back to the login, and never the device check. The
// auth log gets the session's one not_authorized entry here.
func (g *Gate) completeRefusedLogin(w http.ResponseWriter, r *http.Request, f *flow, id session.Identity, factor string) error {
	s, err := g.startSession(w, r, id, factor, nil)
	if err != nil {
		return errInternal("encoding session", err)
	}
	g.refusals.first(s.ID)
	g.recordRefusal(r, id, factor)
	g.clearFlow(w, r)
	web.NoStore(w)
	http.Redirect(w, r, f.Return, http.StatusSeeOther)
	return nil
}
