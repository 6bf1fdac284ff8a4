package prompt

import (
	"fmt"
	"net/http"

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
// When it cannot sign, it fails with a 500 for the error writer: an
// upstream that relies on the assertion must not get a request without
// it.
func (g *Gate) setAssertion(r *http.Request, s *session.Session) error {
	if g.assertion == nil {
		return nil
	}
	subject := assertion.Subject{
		Session: s.ID, User: s.User, Email: s.Email, Groups: s.Groups,
		DeviceID: s.DeviceID, Trust: s.Trust, Failed: s.Failed, Expires: s.Expires(),
	}
	token, err := g.assertion.Token(r, &subject, g.policyHash, g.mode(), g.cfg.Now())
	if err != nil {
		return &web.Error{Status: http.StatusInternalServerError, Code: "assertion_failed",
			Message: "The gateway could not pass your request on. Please try again later.",
			Err: &pageCause{title: "Something went wrong", what: "signing the upstream assertion",
				err: fmt.Errorf("user %q: %w", s.User, err)}}
	}
	r.Header[g.assertion.Header()] = []string{token}
	return nil
}

// serveJWKS serves the published signing keys (assertion.Signer.ServeJWKS).
// It is routed only when the site has an assertion.
func (g *Gate) serveJWKS(w http.ResponseWriter, r *http.Request) error {
	return g.assertion.ServeJWKS(w, r, g.cfg.Now())
}
