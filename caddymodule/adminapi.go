package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

func init() {
	caddy.RegisterModule(AdminAPI{})
}

// AdminAPI serves the gateway's routes on Caddy's admin endpoint, under
// /trusted-endpoints/:
//
//	GET  /trusted-endpoints/auth-log           recent auth-log entries, newest first;
//	     query: user, application, result, reason, since, until (RFC 3339),
//	     before (entry ID cursor), limit (1-1000, default 100)
//	POST /trusted-endpoints/cookie-keys/rotate  add a new session-cookie key
//	POST /trusted-endpoints/devices/{id}/revoke revoke a device in the store and
//	     drop every trust decision cached for it on this instance
//	POST /trusted-endpoints/activations         issue an activation code;
//	     body {"user": "alice", "ttl": "10m", "origin": "https://gw.example.com"}
//	     (ttl optional, default 10m, at most 7 days; origin optional: with it
//	     the answer carries the activation links); answers 201 with
//	     {"user", "code", "expires", "links": {"app", "https"}}
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
		{Pattern: "/trusted-endpoints/devices/", Handler: caddy.AdminHandlerFunc(a.handleDevice)},
		{Pattern: "/trusted-endpoints/activations", Handler: caddy.AdminHandlerFunc(a.handleIssueActivation)},
	}
}

func (a *AdminAPI) app() (*App, error) {
	appIface, err := a.ctx.AppIfConfigured(appName)
	if err != nil {
		return nil, caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("trusted_endpoints is not running: %w", err)}
	}
	return appIface.(*App), nil
}

func (a *AdminAPI) handleAuthLog(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	q, err := parseAuthLogQuery(r)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
	}
	entries, err := app.Store().QueryAuthLog(r.Context(), q)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("querying auth log: %w", err)}
	}
	if entries == nil {
		entries = []store.AuthLogEntry{}
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{"entries": entries})
}

func parseAuthLogQuery(r *http.Request) (store.AuthLogQuery, error) {
	v := r.URL.Query()
	q := store.AuthLogQuery{
		User:        v.Get("user"),
		Application: v.Get("application"),
		Result:      v.Get("result"),
		Reason:      v.Get("reason"),
	}
	var err error
	if s := v.Get("since"); s != "" {
		if q.Since, err = time.Parse(time.RFC3339, s); err != nil {
			return q, fmt.Errorf("since: want RFC 3339 time: %w", err)
		}
	}
	if s := v.Get("until"); s != "" {
		if q.Until, err = time.Parse(time.RFC3339, s); err != nil {
			return q, fmt.Errorf("until: want RFC 3339 time: %w", err)
		}
	}
	if s := v.Get("before"); s != "" {
		if q.BeforeID, err = strconv.ParseInt(s, 10, 64); err != nil || q.BeforeID < 1 {
			return q, fmt.Errorf("before: want a positive entry ID, got %q", s)
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil || q.Limit < 1 || q.Limit > 1000 {
			return q, fmt.Errorf("limit: want 1 to 1000, got %q", s)
		}
	}
	return q, nil
}

func (a *AdminAPI) handleRotateKeys(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
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

// handleDevice serves /trusted-endpoints/devices/{id}/revoke.
func (a *AdminAPI) handleDevice(w http.ResponseWriter, r *http.Request) error {
	id, action, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/trusted-endpoints/devices/"), "/")
	if !ok || id == "" || action != "revoke" {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: errors.New("no such route; want POST /trusted-endpoints/devices/{id}/revoke")}
	}
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	err = app.Store().RevokeDevice(r.Context(), id, time.Now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no device %q", id)}
	case err != nil:
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("revoking device: %w", err)}
	}
	// After the store, so a decision made before the revocation cannot
	// outlive it in this cache.
	app.TrustCache().RevokeDevice(id)
	if n, ok := app.Store().(store.Notifier); ok {
		// Every other instance drops its decisions for the device at once.
		if err := n.Notify(r.Context(), store.Event{Kind: store.EventRevoke, ID: id}); err != nil {
			a.logger.Error("telling other instances about a revocation; they notice on their next cache miss", zap.String("device_id", id), zap.Error(err))
		}
	}
	device, err := app.Store().Device(r.Context(), id)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("reading revoked device: %w", err)}
	}
	a.logger.Info("device revoked", zap.String("device_id", id), zap.String("user", device.User))
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{
		"id":      device.ID,
		"user":    device.User,
		"revoked": device.Revoked.UTC().Format(time.RFC3339),
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
}

func (a *AdminAPI) handleIssueActivation(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
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
	now := time.Now()
	code, err := prompt.IssueActivation(r.Context(), app.Store(), req.User, ttl, now)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: err}
	}
	a.logger.Info("activation code issued", zap.String("user", req.User), zap.Duration("ttl", ttl))
	resp := map[string]any{
		"user":    req.User,
		"code":    code,
		"expires": now.Add(ttl).UTC().Format(time.RFC3339),
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

// Interface guards
var (
	_ caddy.AdminRouter = (*AdminAPI)(nil)
	_ caddy.Provisioner = (*AdminAPI)(nil)
)
