package prompt

import (
	"net/http"
	"path"
	"strings"

	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/web"
)

// reservedRoute is one route of the gateway's own paths: a ServeMux
// pattern (no method: each handler answers a wrong method itself, with
// the gateway's page or JSON) and its handler.
type reservedRoute struct {
	pattern string
	handler http.Handler
}

// reservedRoutes are the routes under ReservedPrefix. Every page route gets
// the page security headers first; the device API sets its own.
func (g *Gate) reservedRoutes() []reservedRoute {
	page := func(h web.HandlerFunc) http.Handler { return withPageHeaders(g.errors.Handle(h)) }
	routes := []reservedRoute{
		// Anything else is the not-found page. The exact paths below the
		// prefix routes keep ServeMux from redirecting them to the prefix.
		{ReservedPrefix, page(g.notFound)},
		{ReservedPrefix + "static", page(g.notFound)},
		{strings.TrimSuffix(protocol.APIPrefix, "/"), page(g.notFound)},
		{ReservedPrefix + "static/{name...}", page(g.serveStatic)},
		{protocol.APIPrefix, http.HandlerFunc(g.serveDeviceAPI)},
		{ReservedPrefix + "login", page(g.serveLogin)},
		{ReservedPrefix + "oidc/callback", page(g.serveOIDCCallback)},
		{ReservedPrefix + "logout", page(g.serveLogout)},
		{ReservedPrefix + "logout/everywhere", page(g.serveLogoutEverywhere)},
		{ReservedPrefix + "verify", page(g.serveVerify)},
		{ReservedPrefix + "verify/status", page(g.serveStatus)},
		{ReservedPrefix + "verify/next", page(g.serveNext)},
		{ReservedPrefix + "verify/complete", page(g.serveComplete)},
		{ReservedPrefix + "verify/passcode", page(g.submitPasscode)},
		{ReservedPrefix + "verify/push", page(g.submitPush)},
		{ReservedPrefix + "verify/skip", page(g.submitSkip)},
		{ReservedPrefix + "verify/enroll", page(g.submitEnroll)},
		{protocol.ReturnPath, page(g.serveReturn)},
		{protocol.VerifyLinkPath, page(g.serveAppLinkFallback)},
		{protocol.ActivateLinkPath, page(g.serveAppLinkFallback)},
	}
	if g.assertion != nil {
		// The key set is JSON for every client, errors included.
		routes = append(routes, reservedRoute{JWKSPath, withPageHeaders(web.ErrorWriter{Log: g.logError}.Handle(g.serveJWKS))})
	}
	return routes
}

// route sets up, once per gate, the error writer of the gateway's own
// handlers (the pages writer's message page for a browser, JSON
// otherwise) and the router of its paths.
func (g *Gate) route() {
	g.errors = web.ErrorWriter{Page: g.errorPage, Log: g.logError}
	g.reserved = g.newReservedRouter()
}

// newReservedRouter returns the router of the gateway's own paths.
func (g *Gate) newReservedRouter() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range g.reservedRoutes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); r.Method != http.MethodConnect && cleanPath(p) != p {
			g.serveUncleanPath(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// serveUncleanPath answers a path that ServeMux would redirect to its
// clean form (with "//", "." or ".." in it) as the gateway always has:
// no gateway path is unclean, so it is not found, and the device API
// answers its own.
func (g *Gate) serveUncleanPath(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, protocol.APIPrefix) {
		g.serveDeviceAPI(w, r)
		return
	}
	web.SecurityHeaders(w)
	if name, ok := strings.CutPrefix(r.URL.Path, ReservedPrefix+"static/"); ok {
		g.pages.ServeStatic(w, r, name)
		return
	}
	g.errors.Write(w, r, g.notFound(w, r))
}

// cleanPath is p as ServeMux cleans it: path.Clean, keeping a trailing
// slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// withPageHeaders sets the page security headers before h answers.
func withPageHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.SecurityHeaders(w)
		h.ServeHTTP(w, r)
	})
}

// notFound answers a gateway path that does not exist.
func (g *Gate) notFound(w http.ResponseWriter, r *http.Request) error {
	return web.Errorf(http.StatusNotFound, "There is no such page on this gateway.")
}

// serveStatic serves the gateway's embedded stylesheet and script.
func (g *Gate) serveStatic(w http.ResponseWriter, r *http.Request) error {
	g.pages.ServeStatic(w, r, r.PathValue("name"))
	return nil
}
