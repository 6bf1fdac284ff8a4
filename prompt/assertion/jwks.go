package assertion

import (
	"fmt"
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/web"
)

// jwksMaxAge is how long (seconds) an upstream may cache the key set.
const jwksMaxAge = 300

// ServeJWKS answers the published signing keys at now, for upstreams to
// verify the assertion with. They are public; upstreams may cache them for
// a few minutes, which SigningKeyPropagationDelay allows for.
func (a *Signer) ServeJWKS(w http.ResponseWriter, r *http.Request, now time.Time) error {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		return web.Errorf(http.StatusMethodNotAllowed, "method not allowed")
	}
	body, err := a.cfg.Keys.JWKS(now)
	if err != nil {
		return fmt.Errorf("encoding the signing keys: %w", err)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", jwksMaxAge))
	_, _ = w.Write(body)
	return nil
}
