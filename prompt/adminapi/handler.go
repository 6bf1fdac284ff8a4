package adminapi

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/web"
)

// Prefix is the path under which the admin API serves every route.
const Prefix = "/trusted-endpoints/"

// Handler serves the admin API (docs/admin-api.md):
//
//	GET  /trusted-endpoints/devices              list devices (filters, cursor)
//	GET  /trusted-endpoints/devices/{id}         one device and its health history
//	POST /trusted-endpoints/devices/{id}/revoke  revoke a device, on every instance at once
//	GET  /trusted-endpoints/managed-devices      the active inventory's devices and their last seen (offset, limit)
//	POST /trusted-endpoints/activations          issue an activation code
//	GET  /trusted-endpoints/auth-log             query the auth log (filters, cursor; JSON or CSV)
//	GET  /trusted-endpoints/rollout-impact       what block mode would have refused
//	POST /trusted-endpoints/what-if              would a user on a device reach an application?
//	POST /trusted-endpoints/cookie-keys/rotate   add a new session-cookie key
//	POST /trusted-endpoints/signing-keys/rotate  add a new upstream-assertion signing key
//	POST /trusted-endpoints/users/{user}/sessions/revoke  end every session of a user, on every instance
//	GET  /trusted-endpoints/inventories          the inventories of managed devices, their states and counts
//	POST /trusted-endpoints/inventories          create a pending inventory
//	GET  /trusted-endpoints/inventories/{id}     one inventory
//	DELETE /trusted-endpoints/inventories/{id}   delete a pending inventory
//	PUT  /trusted-endpoints/inventories/{id}/entries  upload a pending inventory's entries (CSV or JSON), all or none
//	GET  /trusted-endpoints/inventories/{id}/entries  an inventory's entries (offset, limit)
//	POST /trusted-endpoints/inventories/{id}/activate  make a pending inventory active, on every instance
//	POST /trusted-endpoints/inventories/previous/restore  make the previous inventory active again
//
// Answers are JSON (the auth log also CSV); errors are {"error": "..."},
// 400 for bad input, naming the parameter, 405 with Allow for a wrong
// method.
type Handler struct {
	// Uploads reads the uploads of inventory entries; its zero value has
	// the limits of inventory.Parser (200000 rows, 128 MiB).
	Uploads inventory.Parser

	gateway func() (Gateway, error)
	logger  *zap.Logger
	errors  web.ErrorWriter
	mux     *http.ServeMux
}

// New returns the admin API. gateway finds the running gateway for each
// request; its error (a *web.Error, such as a 404 when none runs) is the
// answer.
func New(gateway func() (Gateway, error), logger *zap.Logger) *Handler {
	h := &Handler{gateway: gateway, logger: logger, mux: http.NewServeMux()}
	h.errors = web.ErrorWriter{Log: func(r *http.Request, e *web.Error) {
		logger.Error("admin API request failed", zap.String("path", r.URL.Path), zap.Int("status", e.Status), zap.Error(e))
	}}
	h.route(http.MethodGet, "/trusted-endpoints/devices", h.listDevices)
	h.route(http.MethodGet, "/trusted-endpoints/devices/{id}", h.showDevice)
	h.route(http.MethodPost, "/trusted-endpoints/devices/{id}/revoke", h.revokeDevice)
	h.mux.Handle("/trusted-endpoints/devices/", h.errors.Handle(noRoute(
		"GET /trusted-endpoints/devices/{id} or POST /trusted-endpoints/devices/{id}/revoke")))
	h.route(http.MethodGet, "/trusted-endpoints/managed-devices", h.listManagedDevices)
	h.route(http.MethodPost, "/trusted-endpoints/activations", h.issueActivation)
	h.route(http.MethodGet, "/trusted-endpoints/auth-log", h.authLog)
	h.route(http.MethodGet, "/trusted-endpoints/rollout-impact", h.rolloutImpact)
	h.route(http.MethodPost, "/trusted-endpoints/what-if", h.whatIf)
	h.route(http.MethodPost, "/trusted-endpoints/cookie-keys/rotate", h.rotateCookieKey)
	h.route(http.MethodPost, "/trusted-endpoints/signing-keys/rotate", h.rotateSigningKey)
	h.route(http.MethodPost, "/trusted-endpoints/users/{user}/sessions/revoke", h.revokeUserSessions)
	h.mux.Handle("/trusted-endpoints/users/", h.errors.Handle(noRoute(
		"POST /trusted-endpoints/users/{user}/sessions/revoke")))
	h.routeInventories()
	return h
}

// ServeHTTP answers an admin API request; a path it does not know is a
// plain 404, as Caddy's admin endpoint answers one.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// route serves path with method through serve, and any other method of
// path with a 405 that names method.
func (h *Handler) route(method, path string, serve web.HandlerFunc) {
	h.routeMethods(path, map[string]web.HandlerFunc{method: serve})
}

// routeMethods serves path with each method of serve through its handler,
// and any other method of path with a 405 that names them.
func (h *Handler) routeMethods(path string, serve map[string]web.HandlerFunc) {
	methods := slices.Sorted(maps.Keys(serve))
	for _, method := range methods {
		h.mux.Handle(method+" "+path, h.handle(serve[method]))
	}
	allow := strings.Join(methods, ", ")
	h.mux.Handle(path, h.handle(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return web.Errorf(http.StatusMethodNotAllowed, "method %s not allowed; use %s", r.Method, allow)
	}))
}

// handle adapts serve to an http.Handler whose failures are answered in
// the one place: an upload's bad rows by writeBadUpload, every other
// error by the admin API's web.ErrorWriter.
func (h *Handler) handle(serve web.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := serve(w, r)
		var bad *badUploadError
		switch {
		case err == nil:
		case errors.As(err, &bad):
			writeBadUpload(w, bad)
		default:
			h.errors.Write(w, r, err)
		}
	})
}

// noRoute is a 404 for a path under a route's subtree that is none of its
// routes; want names them.
func noRoute(want string) web.HandlerFunc {
	return func(http.ResponseWriter, *http.Request) error {
		return web.Errorf(http.StatusNotFound, "no such route; want %s", want)
	}
}

// Interface guards
var _ http.Handler = (*Handler)(nil)
