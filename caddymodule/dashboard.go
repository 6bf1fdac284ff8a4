package caddymodule

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/secret"
)

func init() {
	caddy.RegisterModule(Dashboard{})
}

// Dashboard is the endpoints dashboard: HTML views of the devices, the auth
// log and the rollout impact, with charts, for the members of an admin
// group. docs/dashboard.md describes the views.
//
// It must follow the trusted_endpoints handler on the same route: that
// handler signs the person in (and checks their device, as the site's
// policy says) and hands the session on in the request's context. Without
// it the dashboard refuses every request; it never serves anyone the
// gateway did not sign in. Signed-in people outside the admin groups get a
// 403 page.
//
// Under PathPrefix it serves:
//
//	GET  /                          overview: counts and charts
//	GET  /endpoints                 devices: filters, sorting, pages
//	GET  /endpoints/{id}            one device and its health history
//	GET  /endpoints/{id}/revoke     confirmation of a revocation
//	POST /endpoints/{id}/revoke     revoke (with the session's CSRF token)
//	GET  /auth-log                  the auth log: filters, pages
//	GET  /auth-log.csv              the same entries as CSV
//	GET  /impact                    what mode block would have refused
//	GET  /activate                  form to issue an activation code
//	POST /activate                  issue one (with the session's CSRF token)
//	GET  /static/{file}             the dashboard's stylesheet
//
// Requests outside PathPrefix go on to the next handler.
type Dashboard struct {
	// AdminGroups are the groups whose members may use the dashboard; a
	// signed-in person in none of them gets 403. Required.
	AdminGroups []string `json:"admin_groups"`

	// PathPrefix is the URL path under which the dashboard lives, such as
	// /admin. The dashboard needs the full request path, so mount it with
	// a matcher or route, not handle_path. Default: the site's root.
	PathPrefix string `json:"path_prefix,omitempty"`

	app    *App
	pages  *dashboardPages
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (Dashboard) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.trusted_endpoints_dashboard",
		New: func() caddy.Module { return new(Dashboard) },
	}
}

// Provision finds the gateway's app and parses the page templates.
func (d *Dashboard) Provision(ctx caddy.Context) error {
	d.logger = ctx.Logger()
	appIface, err := ctx.App(appName)
	if err != nil {
		return fmt.Errorf("getting trusted_endpoints app: %w", err)
	}
	d.app = appIface.(*App)
	d.app.carrySessions = true
	d.PathPrefix = strings.TrimSuffix(d.PathPrefix, "/")
	if d.pages, err = loadDashboardPages(); err != nil {
		return err
	}
	return nil
}

// Validate checks the dashboard's settings.
func (d *Dashboard) Validate() error {
	if len(d.AdminGroups) == 0 {
		return errors.New("admin_groups: at least one admin group is required")
	}
	if slices.Contains(d.AdminGroups, "") {
		return errors.New("admin_groups: a group name must not be empty")
	}
	if d.PathPrefix != "" && (!strings.HasPrefix(d.PathPrefix, "/") || strings.ContainsAny(d.PathPrefix, "?#*{}")) {
		return fmt.Errorf("path_prefix: want a path such as /admin, got %q", d.PathPrefix)
	}
	return nil
}

// sessionCtxKey is the context key under which the trusted_endpoints
// handler hands the signed-in session to the handlers after it.
type sessionCtxKey struct{}

// carrySession returns r carrying the signed-in session.
func carrySession(r *http.Request, s *prompt.Session) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), sessionCtxKey{}, s))
}

// signedIn returns the session the trusted_endpoints handler established
// for r, or nil when no such handler ran before.
func signedIn(r *http.Request) *prompt.Session {
	s, _ := r.Context().Value(sessionCtxKey{}).(*prompt.Session)
	return s
}

// ServeHTTP serves the dashboard's views to admins.
func (d Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	rest, ok := d.route(r.URL.Path)
	if !ok {
		return next.ServeHTTP(w, r)
	}
	session := signedIn(r)
	if session == nil {
		d.logger.Error("trusted_endpoints_dashboard has no signed-in session: it must follow trusted_endpoints on the same route; refusing",
			zap.String("path", r.URL.Path))
		d.renderError(w, nil, http.StatusInternalServerError, "Dashboard not available",
			"The dashboard is misconfigured: it is not behind the gateway's sign-in. The server log says more.")
		return nil
	}
	if !d.isAdmin(session) {
		d.logger.Info("dashboard refused to a non-admin", zap.String("user", session.User), zap.String("path", r.URL.Path))
		d.renderError(w, session, http.StatusForbidden, "Not allowed",
			"The endpoints dashboard is for administrators. Your account is not in an admin group.")
		return nil
	}
	v := &dashboardRequest{d: &d, w: w, r: r, session: session}
	switch {
	case rest == "/" && isRead(r):
		v.overview()
	case rest == "/endpoints" && isRead(r):
		v.endpoints()
	case strings.HasPrefix(rest, "/endpoints/"):
		id, action, _ := strings.Cut(strings.TrimPrefix(rest, "/endpoints/"), "/")
		id, err := url.PathUnescape(id)
		switch {
		case err != nil || id == "":
			v.notFound()
		case action == "" && isRead(r):
			v.device(id)
		case action == "revoke" && isRead(r):
			v.confirmRevoke(id)
		case action == "revoke" && r.Method == http.MethodPost:
			v.revoke(id)
		case action == "" || action == "revoke":
			v.methodNotAllowed()
		default:
			v.notFound()
		}
	case rest == "/activate":
		v.activation()
	case rest == "/auth-log" && isRead(r):
		v.authLog()
	case rest == "/auth-log.csv" && isRead(r):
		v.authLogCSV()
	case rest == "/impact" && isRead(r):
		v.impact()
	case strings.HasPrefix(rest, "/static/") && isRead(r):
		serveDashboardStatic(w, r, strings.TrimPrefix(rest, "/static/"))
	case rest == "/" || rest == "/endpoints" || rest == "/auth-log" || rest == "/auth-log.csv" || rest == "/impact":
		v.methodNotAllowed()
	default:
		v.notFound()
	}
	return nil
}

// route returns the path of a request within the dashboard ("/" for its
// root), and whether the request is the dashboard's at all. The prefix
// itself, without a slash, is the root too.
func (d *Dashboard) route(path string) (string, bool) {
	if d.PathPrefix == "" {
		return path, true
	}
	if path == d.PathPrefix {
		return "/", true
	}
	rest, ok := strings.CutPrefix(path, d.PathPrefix)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return rest, true
}

// isAdmin reports whether the session's user is in an admin group.
func (d *Dashboard) isAdmin(s *prompt.Session) bool {
	for _, g := range s.Groups {
		if slices.Contains(d.AdminGroups, g) {
			return true
		}
	}
	return false
}

// link returns the URL path of a dashboard view.
func (d *Dashboard) link(view string) string {
	if d.PathPrefix == "" {
		return view
	}
	return d.PathPrefix + view
}

func isRead(r *http.Request) bool {
	return r.Method == http.MethodGet || r.Method == http.MethodHead
}

// validCSRF checks a posted form: the token must be the session's, and a
// browser that says where the form came from must say this origin. Under
// Referrer-Policy no-referrer browsers send "Origin: null" with a form's
// POST; the token and Sec-Fetch-Site then decide.
func validCSRF(r *http.Request, s *prompt.Session) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return false
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	return secret.Equal(r.PostFormValue("csrf"), s.CSRF)
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Dashboard)(nil)
	_ caddy.Validator             = (*Dashboard)(nil)
	_ caddyhttp.MiddlewareHandler = (*Dashboard)(nil)
)
