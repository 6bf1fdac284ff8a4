package dashboard

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Person is the signed-in person the gateway hands over.
type Person struct {
	User   string
	Groups []string
	// CSRF is the token of the person's session, which the dashboard's
	// forms carry.
	CSRF string
}

// Gateway is what the dashboard asks of the running gateway.
type Gateway interface {
	// Store is the gateway's storage.
	Store() adminapi.Store
	// RevokeDevice revokes a device on every instance and returns it; an
	// unknown device is store.ErrNotFound.
	RevokeDevice(ctx context.Context, id string) (store.Device, error)
	// IssueActivation stores a single-use activation code for user, whose
	// device it binds to the realm with ID realmID ("" for none).
	IssueActivation(ctx context.Context, user, realmID string, ttl time.Duration, now time.Time) (code string, err error)
	// ActivationLinks are the custom-scheme and HTTPS activation links of
	// code on the gateway at origin; ActivationQR draws a link as a QR
	// code (a data: URL).
	ActivationLinks(origin, code string) (app, https string)
	ActivationQR(link string) (template.URL, error)
	// ActivationRealm is the realm an admin's code for application binds
	// its device to, and the realm's ID ("" for none).
	ActivationRealm(application string) (realm, id string, err error)
	// Applications are the configuration's application names, sorted.
	Applications() []string
	// Authorized reports whether the access rules of an entry's
	// application, as they are now, let its person in.
	Authorized() func(store.AuthLogEntry) bool
	// Inventories keeps the inventories of managed devices, as the admin
	// API does: uploads, and activations that every instance follows.
	adminapi.Inventories
}

// Config sets up a dashboard.
type Config struct {
	// AdminGroups are the groups whose members may use the dashboard.
	AdminGroups []string
	// PathPrefix is the URL path under which the dashboard lives, such as
	// /admin, without a trailing slash; empty for the site's root.
	PathPrefix string
	// SignedIn returns the person the gateway signed in for r, or nil
	// when no gateway ran before the dashboard.
	SignedIn func(r *http.Request) *Person
	Gateway  Gateway
	Logger   *zap.Logger
}

// Handler serves the dashboard. Under the path prefix:
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
//	GET  /inventories               the inventories of managed devices
//	POST /inventories               upload a CSV or JSON file into a new
//	                                pending inventory (multipart, CSRF)
//	POST /inventories/{id}/activate activate a pending inventory (CSRF)
//	POST /inventories/{id}/delete   delete a pending inventory (CSRF)
//	POST /inventories/previous/restore  make the previous one active again
//	GET  /static/{file}             the dashboard's stylesheet
type Handler struct {
	cfg    Config
	pages  *pages
	errors web.ErrorWriter
	mux    *http.ServeMux
}

// New returns the dashboard of cfg, its templates parsed.
func New(cfg Config) (*Handler, error) {
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, pages: p, mux: http.NewServeMux()}
	h.errors = web.ErrorWriter{Page: h.errorPage, Log: func(r *http.Request, e *web.Error) {
		cfg.Logger.Error("dashboard request failed", zap.String("path", r.URL.Path), zap.Int("status", e.Status), zap.Error(e))
	}}
	h.route("GET /{$}", (*request).overview)
	h.route("GET /endpoints", (*request).endpoints)
	h.route("GET /endpoints/{id}", (*request).device)
	h.route("GET /endpoints/{id}/revoke", (*request).confirmRevoke)
	h.route("POST /endpoints/{id}/revoke", (*request).revoke)
	h.route("GET /activate", (*request).activationForm)
	h.route("POST /activate", (*request).activate)
	h.route("GET /auth-log", (*request).authLog)
	h.route("GET /auth-log.csv", (*request).authLogCSV)
	h.route("GET /impact", (*request).impact)
	h.route("GET /inventories", (*request).inventories)
	h.route("POST /inventories", (*request).upload)
	h.route("POST /inventories/{id}/activate", (*request).activateInventory)
	h.route("POST /inventories/{id}/delete", (*request).deleteInventory)
	h.route("POST /inventories/previous/restore", (*request).restoreInventory)
	h.mux.HandleFunc("GET /static/{file...}", func(w http.ResponseWriter, r *http.Request) {
		serveStatic(w, r, r.PathValue("file"))
	})
	// Any other method of a view's path is a 405, any other path a 404.
	for _, p := range []string{"/{$}", "/endpoints", "/endpoints/{id}", "/endpoints/{id}/revoke", "/activate", "/auth-log", "/auth-log.csv", "/impact",
		"/inventories", "/inventories/{id}/activate", "/inventories/{id}/delete", "/inventories/previous/restore"} {
		h.mux.Handle(p, h.errors.Handle(methodNotAllowed))
	}
	h.mux.Handle("/", h.errors.Handle(notFound))
	return h, nil
}

// Owns reports whether the request path is the dashboard's: under its
// prefix, or the prefix itself.
func (h *Handler) Owns(urlPath string) bool {
	_, ok := h.within(urlPath)
	return ok
}

// ServeHTTP serves the dashboard's views to admins.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.errors.Handle(h.serve).ServeHTTP(w, r)
}

// serve lets only admins in, then routes on the path within the prefix.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	person := h.cfg.SignedIn(r)
	if person == nil {
		return &web.Error{Status: http.StatusInternalServerError, Code: "misconfigured",
			Message: "The dashboard is misconfigured: it is not behind the gateway's sign-in. The server log says more.",
			Err:     errors.New("trusted_endpoints_dashboard has no signed-in session: it must follow trusted_endpoints on the same route; refusing")}
	}
	if !h.isAdmin(person) {
		h.cfg.Logger.Info("dashboard refused to a non-admin", zap.String("user", person.User), zap.String("path", r.URL.Path))
		return web.Errorf(http.StatusForbidden, "The endpoints dashboard is for administrators. Your account is not in an admin group.").WithCode("not_admin")
	}
	rest, ok := h.within(r.URL.Path)
	if !ok || cleanPath(rest) != rest {
		// ServeMux would redirect an unclean path, to one without the
		// prefix.
		return notFound(w, r)
	}
	inner := r.Clone(r.Context())
	inner.URL.Path, inner.URL.RawPath = rest, ""
	if raw, ok := strings.CutPrefix(r.URL.RawPath, h.cfg.PathPrefix); ok && r.URL.RawPath != "" && raw != "" {
		inner.URL.RawPath = raw
	}
	h.mux.ServeHTTP(w, inner)
	return nil
}

// within returns the path of a request within the dashboard ("/" for its
// root), and whether the request is the dashboard's at all.
func (h *Handler) within(urlPath string) (string, bool) {
	prefix := h.cfg.PathPrefix
	if prefix == "" {
		return urlPath, true
	}
	if urlPath == prefix {
		return "/", true
	}
	rest, ok := strings.CutPrefix(urlPath, prefix)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", false
	}
	return rest, true
}

// cleanPath is p as ServeMux cleans it: no empty, . or .. elements, and
// a trailing slash kept.
func cleanPath(p string) string {
	cleaned := path.Clean(p)
	if strings.HasSuffix(p, "/") && cleaned != "/" {
		cleaned += "/"
	}
	return cleaned
}

// isAdmin reports whether the person is in an admin group.
func (h *Handler) isAdmin(p *Person) bool {
	return slices.ContainsFunc(p.Groups, func(g string) bool { return slices.Contains(h.cfg.AdminGroups, g) })
}

// link returns the URL path of a dashboard view.
func (h *Handler) link(view string) string {
	return h.cfg.PathPrefix + view
}

// request is one request to a dashboard view, by an admin.
type request struct {
	h      *Handler
	w      http.ResponseWriter
	r      *http.Request
	person *Person
}

// route serves pattern through a view.
func (h *Handler) route(pattern string, view func(*request) error) {
	h.mux.Handle(pattern, h.errors.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return view(&request{h: h, w: w, r: r, person: h.cfg.SignedIn(r)})
	}))
}

func notFound(http.ResponseWriter, *http.Request) error {
	return web.Errorf(http.StatusNotFound, "There is no such page in the dashboard.").WithCode("not_found")
}

func methodNotAllowed(http.ResponseWriter, *http.Request) error {
	return web.Errorf(http.StatusMethodNotAllowed, "This page cannot be used that way.").WithCode("method_not_allowed")
}

// Interface guards
var _ http.Handler = (*Handler)(nil)
