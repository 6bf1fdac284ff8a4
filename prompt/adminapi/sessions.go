package adminapi

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/web"
)

// revokeUserSessions serves POST /trusted-endpoints/users/{user}/sessions/revoke:
// it ends every session of user begun until now, in every browser and on
// every instance: here at once, on the others through the store's events
// (or their next refresh, without events).
func (h *Handler) revokeUserSessions(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	now := time.Now()
	err = gw.RevokeUserSessions(r.Context(), user, now)
	switch {
	case errors.Is(err, ErrNotAnnounced):
		h.logger.Warn("user sessions revoked, but other instances only learn of it on their next refresh", zap.String("user", user), zap.Error(err))
	case err != nil:
		// It holds on this instance and is stored once storage is back.
		return unavailable("revoking sessions (in force on this instance only until storage is back)", err)
	}
	h.logger.Info("user sessions revoked", zap.String("user", user))
	web.WriteJSON(w, http.StatusOK, map[string]any{
		"user":           user,
		"revoked_before": now.UTC().Format(time.RFC3339Nano),
	})
	return nil
}
