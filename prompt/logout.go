package prompt

import (
	"net/http"
)

// serveLogout shows a sign-out button (GET) and signs out (POST, with the
// session's CSRF token).
func (g *Gate) serveLogout(w http.ResponseWriter, r *http.Request) {
	session := g.readSession(r)
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		g.renderLogout(w, r, session)
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			g.renderMessage(w, r, http.StatusBadRequest, "Sign-out failed", "The sign-out form could not be read.", ReservedPrefix+"logout")
			return
		}
		if session == nil {
			g.endSession(w, r)
			http.Redirect(w, r, ReservedPrefix+"logout", http.StatusSeeOther)
			return
		}
		if !equalTokens(r.PostForm.Get("csrf"), session.CSRF) {
			g.renderMessage(w, r, http.StatusForbidden, "Sign-out failed", "The sign-out request did not come from this gateway's page. Use the button on the sign-out page.", ReservedPrefix+"logout")
			return
		}
		g.endSession(w, r)
		noStore(w)
		http.Redirect(w, r, ReservedPrefix+"logout", http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		g.renderMessage(w, r, http.StatusMethodNotAllowed, "Not allowed", "That method is not allowed here.", "")
	}
}
