package prompt

import (
	"net/http"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/pages"
	"github.com/trustgate/trustgate/prompt/session"
)

// The gate's pages are written by its pages.Writer; these name the pages
// in the gate's terms (a login flow, a session).

func (g *Gate) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *flow, username, errMsg string) {
	g.pages.Login(w, r, status, pages.Login{Username: username, CSRF: f.CSRF, Error: errMsg})
}

func (g *Gate) renderMessage(w http.ResponseWriter, r *http.Request, status int, title, msg, link string) {
	g.pages.Message(w, r, status, title, msg, link)
}

func (g *Gate) renderLogout(w http.ResponseWriter, r *http.Request, s *session.Session) {
	var user, csrf string
	if s != nil {
		user, csrf = s.User, s.CSRF
	}
	g.pages.Logout(w, r, user, csrf)
}

// renderDenied shows the denial page of a device check that integration
// (integrationMobile, integrationManaged, or none) decided.
func (g *Gate) renderDenied(w http.ResponseWriter, r *http.Request, integration string, failed, warnings []policy.Finding) {
	g.pages.Denied(w, r, policy.Decider(integration), failed, warnings, ReservedPrefix+"login")
}

func (g *Gate) renderNotice(w http.ResponseWriter, r *http.Request, warnings []policy.Finding, next string) {
	g.pages.Notice(w, r, warnings, SafeReturn(next))
}

// serveAppLinkFallback is what a browser shows when it opens one of the
// app's HTTPS links itself, because the app is not installed.
func (g *Gate) serveAppLinkFallback(w http.ResponseWriter, r *http.Request) error {
	g.pages.AppLink(w, r, pathVerify)
	return nil
}
