package admin

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/trustgate/trustgate/caddymodule/internal/signedin"
	"github.com/trustgate/trustgate/prompt/dashboard"
)

func init() {
	caddy.RegisterModule(Dashboard{})
}

// Dashboard is the endpoints dashboard (package dashboard): HTML views of
// the devices, the auth log and the rollout impact, with charts, for the
// members of an admin group. docs/dashboard.md describes the views.
//
// It must follow the trusted_endpoints handler on the same route: that
// handler signs the person in (and checks their device, as the site's
// policy says) and hands the session on in the request's context. Without
// it the dashboard refuses every request; it never serves anyone the
// gateway did not sign in. Signed-in people outside the admin groups get a
// 403 page.
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

	handler *dashboard.Handler
}

// CaddyModule returns the Caddy module information.
func (Dashboard) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.trusted_endpoints_dashboard",
		New: func() caddy.Module { return new(Dashboard) },
	}
}

// Provision finds the gateway's app and sets up the dashboard over it.
func (d *Dashboard) Provision(ctx caddy.Context) error {
	appIface, err := ctx.App(appName)
	if err != nil {
		return fmt.Errorf("getting trusted_endpoints app: %w", err)
	}
	app, err := asApp(appIface)
	if err != nil {
		return err
	}
	app.CarrySessions()
	d.PathPrefix = strings.TrimSuffix(d.PathPrefix, "/")
	logger := ctx.Logger()
	d.handler, err = dashboard.New(dashboard.Config{
		AdminGroups: d.AdminGroups,
		PathPrefix:  d.PathPrefix,
		SignedIn:    signedInPerson,
		Gateway:     gateway{app: app},
		Logger:      logger,
	})
	return err
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

// ServeHTTP hands the dashboard's requests to it, and the others on.
func (d Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if !d.handler.Owns(r.URL.Path) {
		return next.ServeHTTP(w, r)
	}
	d.handler.ServeHTTP(w, r)
	return nil
}

// signedInPerson is the person the trusted_endpoints handler before the
// dashboard signed in, as the dashboard sees them; nil when none ran.
func signedInPerson(r *http.Request) *dashboard.Person {
	s := signedin.Session(r)
	if s == nil {
		return nil
	}
	return &dashboard.Person{User: s.User, Groups: s.Groups, CSRF: s.CSRF}
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Dashboard)(nil)
	_ caddy.Validator             = (*Dashboard)(nil)
	_ caddyhttp.MiddlewareHandler = (*Dashboard)(nil)
)
