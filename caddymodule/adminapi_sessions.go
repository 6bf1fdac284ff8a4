package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
)

// usersPrefix is the admin subtree of per-user routes.
const usersPrefix = "/trusted-endpoints/users/"

// handleUser serves POST /trusted-endpoints/users/{user}/sessions/revoke.
func (a *AdminAPI) handleUser(w http.ResponseWriter, r *http.Request) error {
	user, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, usersPrefix), "/sessions/revoke")
	if !ok || user == "" {
		return caddy.APIError{HTTPStatus: http.StatusNotFound,
			Err: errors.New("no such route; want POST /trusted-endpoints/users/{user}/sessions/revoke")}
	}
	return a.handleRevokeUserSessions(w, r, user)
}

// handleRevokeUserSessions ends every session of user begun until now, in
// every browser and on every instance: here at once, on the others through
// the store's events (or their next refresh, without events).
func (a *AdminAPI) handleRevokeUserSessions(w http.ResponseWriter, r *http.Request, user string) error {
	if err := allowMethod(w, r, http.MethodPost); err != nil {
		return err
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	now := time.Now()
	err = app.Revocations().RevokeUserSessions(r.Context(), app.Store(), user, now)
	switch {
	case prompt.IsStoredButNotAnnounced(err):
		a.logger.Warn("user sessions revoked, but other instances only learn of it on their next refresh", zap.String("user", user), zap.Error(err))
	case err != nil:
		// It holds on this instance and is stored once storage is back.
		return unavailable("revoking sessions (in force on this instance only until storage is back)", err)
	}
	a.logger.Info("user sessions revoked", zap.String("user", user))
	return writeJSON(w, http.StatusOK, map[string]any{
		"user":           user,
		"revoked_before": now.UTC().Format(time.RFC3339Nano),
	})
}
