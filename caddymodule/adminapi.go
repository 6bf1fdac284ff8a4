package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves the gateway's routes on Caddy's admin endpoint, under
// /trusted-endpoints/; docs/admin-api.md documents each with its parameters
// and answers:
//
//	GET  /trusted-endpoints/devices              list devices (filters, cursor)
//	GET  /trusted-endpoints/devices/{id}         one device and its health history
//	POST /trusted-endpoints/devices/{id}/revoke  revoke a device, on every instance at once
//	POST /trusted-endpoints/activations          issue an activation code
//	GET  /trusted-endpoints/auth-log             query the auth log (filters, cursor; JSON or CSV)
//	GET  /trusted-endpoints/rollout-impact       what block mode would have refused
//	POST /trusted-endpoints/what-if              would a user on a device reach an application?
//	POST /trusted-endpoints/cookie-keys/rotate   add a new session-cookie key
//	POST /trusted-endpoints/signing-keys/rotate  add a new upstream-assertion signing key
//	POST /trusted-endpoints/users/{user}/sessions/revoke  end every session of a user, on every instance
//
// Answers are JSON (the auth log also CSV); errors are {"error": "..."},
// 400 for bad input, naming the parameter.
//
// Caddy's admin endpoint has no authentication of its own: keep it on
// localhost or a unix socket, as Caddy does by default.
type AdminAPI struct {
	ctx    caddy.Context
	logger *zap.Logger
}

// CaddyModule returns the Caddy module information.
func (AdminAPI) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.trusted_endpoints",
		New: func() caddy.Module { return new(AdminAPI) },
	}
}

// Provision keeps the context; the app is looked up per request, since the
// admin module is provisioned before the apps.
func (a *AdminAPI) Provision(ctx caddy.Context) error {
	a.ctx = ctx
	a.logger = ctx.Logger(a)
	return nil
}

// Routes returns the admin routes.
func (a *AdminAPI) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{
		{Pattern: "/trusted-endpoints/auth-log", Handler: caddy.AdminHandlerFunc(a.handleAuthLog)},
		{Pattern: "/trusted-endpoints/cookie-keys/rotate", Handler: caddy.AdminHandlerFunc(a.handleRotateKeys)},
		{Pattern: "/trusted-endpoints/signing-keys/rotate", Handler: caddy.AdminHandlerFunc(a.handleRotateSigningKey)},
		{Pattern: "/trusted-endpoints/devices", Handler: caddy.AdminHandlerFunc(a.handleListDevices)},
		{Pattern: "/trusted-endpoints/devices/", Handler: caddy.AdminHandlerFunc(a.handleDevice)},
		{Pattern: "/trusted-endpoints/activations", Handler: caddy.AdminHandlerFunc(a.handleIssueActivation)},
		{Pattern: "/trusted-endpoints/rollout-impact", Handler: caddy.AdminHandlerFunc(a.handleRolloutImpact)},
		{Pattern: "/trusted-endpoints/what-if", Handler: caddy.AdminHandlerFunc(a.handleWhatIf)},
		{Pattern: usersPrefix, Handler: caddy.AdminHandlerFunc(a.handleUser)},
	}
}

func (a *AdminAPI) app() (*App, error) {
	appIface, err := a.ctx.AppIfConfigured(appName)
	if err != nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("trusted_endpoints is not running: %w", err)}
	}
	return appIface.(*App), nil
}

func (a *AdminAPI) handleRotateKeys(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethod(w, r, http.MethodPost); err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	key, err := app.RotateCookieKey(r.Context())
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err}
	}
	a.logger.Info("cookie key rotated", zap.String("key_id", key.ID))
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{
		"key_id":        key.ID,
		"signing_after": key.Created.Add(prompt.KeyPropagationDelay).Format(time.RFC3339),
	})
}

// Limits of an admin-issued activation code's life.
const (
	adminActivationTTL    = 10 * time.Minute
	maxAdminActivationTTL = 7 * 24 * time.Hour
)

// activationRequest is the body of POST /trusted-endpoints/activations.
type activationRequest struct {
	User   string `json:"user"`
	TTL    string `json:"ttl,omitempty"`
	Origin string `json:"origin,omitempty"`
	// Application binds the device to the realm of that application's
	// sites; without it, to the realm every site shares, if they do.
	Application string `json:"application,omitempty"`
}

func (a *AdminAPI) handleIssueActivation(w http.ResponseWriter, r *http.Request) error {
	if err := allowMethod(w, r, http.MethodPost); err != nil {
		return err
	}
	var req activationRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("decoding request: %w", err)}
	}
	if strings.TrimSpace(req.User) == "" {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: errors.New("user is required")}
	}
	ttl := adminActivationTTL
	if req.TTL != "" {
		d, err := caddy.ParseDuration(req.TTL)
		if err != nil || d <= 0 || d > maxAdminActivationTTL {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("ttl: want a positive duration of at most 7 days, got %q", req.TTL)}
		}
		ttl = d
	}
	origin := strings.TrimSuffix(req.Origin, "/")
	if origin != "" {
		if err := checkOrigin(origin); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	realm, realmID, err := app.activationRealm(req.Application)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	now := time.Now()
	code, err := prompt.IssueActivation(r.Context(), app.Store(), req.User, realmID, ttl, now)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err}
	}
	a.logger.Info("activation code issued", zap.String("user", req.User), zap.Duration("ttl", ttl),
		zap.String("application", req.Application), zap.String("realm", realm))
	resp := map[string]any{
		"user":    req.User,
		"code":    code,
		"expires": now.Add(ttl).UTC().Format(time.RFC3339),
		// realm is the realm the device will be bound to; "" for none
		// (every site counts it). realm_id is what devices list.
		"realm":    realm,
		"realm_id": realmID,
	}
	if origin != "" {
		appLink, httpsLink := prompt.ActivationLinks(origin, code)
		resp["links"] = map[string]string{"app": appLink, "https": httpsLink}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	return json.NewEncoder(w).Encode(resp)
}

// allowMethod answers 405 unless r uses method.
func allowMethod(w http.ResponseWriter, r *http.Request, method string) error {
	if r.Method == method {
		return nil
	}
	w.Header().Set("Allow", method)
	return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed; use %s", r.Method, method)}
}

// badRequest is a 400 whose message starts with the parameter at fault.
func badRequest(param, format string, args ...any) error {
	return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf(param+": "+format, args...)}
}

// unavailable is a 503 for a store that failed.
func unavailable(what string, err error) error {
	return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("%s: %w", what, err)}
}

// writeJSON writes v as a JSON answer with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// queryParams reads a route's query parameters, refusing any it does not
// know (a misspelt filter would otherwise silently match everything) and
// any given twice.
type queryParams struct {
	values url.Values
}

func readQuery(r *http.Request, known ...string) (queryParams, error) {
	v := r.URL.Query()
	for name, vals := range v {
		if !slices.Contains(known, name) {
			return queryParams{}, badRequest(name, "unknown parameter (want one of %s)", strings.Join(known, ", "))
		}
		if len(vals) > 1 && name != "os_older_than" {
			return queryParams{}, badRequest(name, "given %d times, want once", len(vals))
		}
	}
	return queryParams{values: v}, nil
}

func (q queryParams) get(name string) string { return q.values.Get(name) }

// time reads an RFC 3339 time; zero when absent.
func (q queryParams) time(name string) (time.Time, error) {
	s := q.get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(name, "want an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", s)
	}
	return t, nil
}

// bool reads true or false; nil when absent.
func (q queryParams) bool(name string) (*bool, error) {
	s := q.get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, badRequest(name, "want true or false, got %q", s)
	}
	return &b, nil
}

// limit reads a page size from 1 to maxLimit; def when absent.
func (q queryParams) limit(name string, def int) (int, error) {
	s := q.get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		return 0, badRequest(name, "want 1 to %d, got %q", maxLimit, s)
	}
	return n, nil
}

// oneOf reads a value that must be one of allowed; empty when absent.
func (q queryParams) oneOf(name string, allowed ...string) (string, error) {
	s := q.get(name)
	if s != "" && !slices.Contains(allowed, s) {
		return "", badRequest(name, "want one of %q, got %q", allowed, s)
	}
	return s, nil
}

// Page sizes of the list routes.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// Interface guards
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
