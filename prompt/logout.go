package prompt

import (
	"net/http"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/web"
	"go.uber.org/zap"
)

// serveLogout shows the sign-out page (GET) and signs out (POST, with the
// session's CSRF token): the session is revoked on the server, so that a
// copy of its cookie stops working on every instance, and its cookie is
// cleared.
func (g *Gate) serveLogout(w http.ResponseWriter, r *http.Request) error {
	return g.logout(w, r, false)
}

// serveLogoutEverywhere signs the user out of every session they hold, in
// any browser (POST, with the session's CSRF token); GET shows the sign-out
// page.
func (g *Gate) serveLogoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	return g.logout(w, r, true)
}

func (g *Gate) logout(w http.ResponseWriter, r *http.Request, everywhere bool) error {
	session := g.readSession(r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		g.renderLogout(w, r, session)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			return pageErr(http.StatusBadRequest, "Sign-out failed", "The sign-out form could not be read.", ReservedPrefix+"logout")
		}
		if session == nil {
			g.endSession(w, r)
			http.Redirect(w, r, ReservedPrefix+"logout", http.StatusSeeOther)
			return nil
		}
		if !secret.Equal(r.PostForm.Get("csrf"), session.CSRF) {
			return pageErr(http.StatusForbidden, "Sign-out failed", "The sign-out request did not come from this gateway's page. Use the button on the sign-out page.", ReservedPrefix+"logout")
		}
		g.revokeSession(r, session, everywhere)
		g.endSession(w, r)
		web.NoStore(w)
		// The provider's session ends too, or the next person at this
		// browser would be signed in again as this one without a word.
		if dest := g.providerLogoutURL(r, session); dest != "" {
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return nil
		}
		http.Redirect(w, r, ReservedPrefix+"logout", http.StatusSeeOther)
	default:
		return errMethod(w, "GET, HEAD, POST", "")
	}
	return nil
}

// revokeSession revokes s, or every session of its user begun until now,
// on every instance. Signing out never fails for the person: in every
// fail mode, if storage is unreachable the revocation holds on this
// instance at once and is stored (and announced) once storage is back.
func (g *Gate) revokeSession(r *http.Request, s *session.Session, everywhere bool) {
	var err error
	what := "revoking session"
	if everywhere {
		what = "revoking user sessions"
		err = g.cfg.Revocations.RevokeUserSessions(r.Context(), g.cfg.Store, s.User, g.cfg.Now())
	} else {
		err = g.cfg.Revocations.RevokeSession(r.Context(), g.cfg.Store, s.ID, s.Expires())
	}
	fields := []zap.Field{zap.String("user", s.User), zap.String("session_id", s.ID), zap.Bool("everywhere", everywhere)}
	if err != nil {
		if !session.IsStoredButNotAnnounced(err) {
			g.storeFailed(what, err)
		}
		session.LogRevocationError(g.cfg.Logger, "signing out", err, fields...)
		return
	}
	g.cfg.Logger.Info("signed out", fields...)
}
