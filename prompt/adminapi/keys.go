package adminapi

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/web"
)

// rotateCookieKey serves POST /trusted-endpoints/cookie-keys/rotate: it
// adds a new session-cookie key, which signs once every instance has had
// time to learn it; older keys keep decoding.
func (h *Handler) rotateCookieKey(w http.ResponseWriter, r *http.Request) error {
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	id, signingAfter, err := gw.RotateCookieKey(r.Context())
	if err != nil {
		return &web.Error{Status: http.StatusServiceUnavailable, Message: err.Error(), Err: err}
	}
	h.logger.Info("cookie key rotated", zap.String("key_id", id))
	web.WriteJSON(w, http.StatusOK, map[string]any{
		"key_id":        id,
		"signing_after": signingAfter.Format(time.RFC3339),
	})
	return nil
}

// rotateSigningKeyRequest is the optional body of
// POST /trusted-endpoints/signing-keys/rotate.
type rotateSigningKeyRequest struct {
	// Immediate makes the new key sign at once instead of after the
	// propagation delay (10m): for a key that leaked. Upstreams holding a
	// cached key set refuse the new tokens until they fetch it again.
	Immediate bool `json:"immediate,omitempty"`
}

// rotateSigningKey serves POST /trusted-endpoints/signing-keys/rotate: it
// adds a new key for the upstream assertions to the store, which every
// instance publishes at once and signs with from the answer's activates
// on. Body (optional): {"immediate": true}. Answer: {"kid", "created",
// "activates", "published"}, published being the key IDs in this
// instance's /.trustgate/jwks.json. Older keys stay published while tokens
// they signed may be valid.
func (h *Handler) rotateSigningKey(w http.ResponseWriter, r *http.Request) error {
	var req rotateSigningKeyRequest
	if err := decodeBody(w, r, &req, true); err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	key, err := gw.RotateSigningKey(r.Context(), req.Immediate)
	if err != nil {
		return unavailable("rotating signing key", err)
	}
	h.logger.Info("signing key rotated", zap.String("kid", key.ID), zap.Bool("immediate", req.Immediate), zap.Time("activates", key.Activates))
	web.WriteJSON(w, http.StatusOK, map[string]any{
		"kid":       key.ID,
		"created":   key.Created.Format(time.RFC3339),
		"activates": key.Activates.Format(time.RFC3339),
		"published": gw.PublishedSigningKeys(time.Now()),
	})
	return nil
}
