package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// rotateSigningKeyRequest is the optional body of
// POST /trusted-endpoints/signing-keys/rotate.
type rotateSigningKeyRequest struct {
	// Immediate makes the new key sign at once instead of after the
	// propagation delay (10m): for a key that leaked. Upstreams holding a
	// cached key set refuse the new tokens until they fetch it again.
	Immediate bool `json:"immediate,omitempty"`
}

// handleRotateSigningKey serves POST /trusted-endpoints/signing-keys/rotate:
// it adds a new key for the upstream assertions to the store, which every
// instance publishes at once and signs with from the answer's activates
// on. Body (optional): {"immediate": true}. Answer: {"kid", "created",
// "activates", "published"}, published being the key IDs in this
// instance's /.trustgate/jwks.json. Older keys stay published while tokens
// they signed may be valid.
func (a *AdminAPI) handleRotateSigningKey(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodPost {
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: errors.New("method not allowed")}
	}
	var req rotateSigningKeyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: fmt.Errorf("decoding request: %w", err)}
	}
	app, err := a.app()
	if err != nil {
		return err
	}
	key, err := app.RotateSigningKey(r.Context(), req.Immediate)
	if err != nil {
		return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: fmt.Errorf("rotating signing key: %w", err)}
	}
	a.logger.Info("signing key rotated", zap.String("kid", key.ID), zap.Bool("immediate", req.Immediate), zap.Time("activates", key.Activates))
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(map[string]any{
		"kid":       key.ID,
		"created":   key.Created.Format(time.RFC3339),
		"activates": key.Activates.Format(time.RFC3339),
		"published": app.SigningKeys().PublishedKeyIDs(time.Now()),
	})
}
