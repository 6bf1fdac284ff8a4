package prompt

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/web"
)

// JWKSPath is where the gate serves the public signing keys of the upstream
// assertion (package assertion).
const JWKSPath = ReservedPrefix + "jwks.json"

// mode returns the site's policy mode.
func (g *Gate) mode() policy.Mode {
	if g.cfg.Device == nil {
		return policy.ModeOff
	}
	return g.cfg.Device.Policy.Mode
}

// setAssertion sets the signed assertion for s on r, when the site has one.
// When it cannot sign, it answers 500 and reports false: an upstream that
// relies on the assertion must not get a request without it.
func (g *Gate) setAssertion(w http.ResponseWriter, r *http.Request, s *session.Session) bool {
	if g.assertion == nil {
		return true
	}
	subject := assertion.Subject{
		Session: s.ID, User: s.User, Email: s.Email, Groups: s.Groups,
		DeviceID: s.DeviceID, Trust: s.Trust, Failed: s.Failed, Expires: s.Expires(),
	}
	token, err := g.assertion.Token(r, &subject, g.policyHash, g.mode(), g.cfg.Now())
	if err != nil {
		g.cfg.Logger.Error("signing the upstream assertion", zap.String("user", s.User), zap.Error(err))
		if !web.WantsPage(r) {
			web.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "the gateway could not sign the request"})
			return false
		}
		web.SecurityHeaders(w)
		g.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong", "The gateway could not pass your request on. Please try again later.", "")
		return false
	}
	r.Header[g.assertion.Header()] = []string{token}
	return true
}

// serveJWKS serves the published signing keys (assertion.Signer.ServeJWKS).
// It is routed only when the site has an assertion.
func (g *Gate) serveJWKS(w http.ResponseWriter, r *http.Request) error {
	return g.assertion.ServeJWKS(w, r, g.cfg.Now())
}
