package caddymodule

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/trustgate/trustgate/prompt/assertion"
)

// UpstreamAssertion configures the signed assertion handed to the upstream:
// a short-lived JWT (ES256) with the user's identity and the access
// device's trust, for upstreams that can verify it. The public keys are
// served at /.trustgate/jwks.json on the site; the signing keys are shared
// by every site and instance using the store, and rotate (see the app's
// signing_key_rotation). The header is removed from every incoming request
// first, whatever its case and whether written with '-', '_' or '.'.
//
// The claims are iss, sub (user name), aud, iat, nbf, exp, jti, email,
// groups, device_id, trust (trusted, not_trusted or unknown), mode (off,
// check or block) and failed (the failed requirements' reason codes).
type UpstreamAssertion struct {
	// Header is the request header that carries the JWT.
	// Default: X-Trustgate-Assertion
	Header string `json:"header,omitempty"`

	// Lifetime is how long a JWT is valid; at most 1h. A session's JWT is
	// reused by its requests for half of this time, then signed anew.
	// Default: 60s
	Lifetime caddy.Duration `json:"lifetime,omitempty"`

	// Audience is the aud claim: the upstream the JWT is meant for. Set it
	// when several applications trust this gateway's keys, so that none
	// accepts a JWT meant for another.
	// Default: the issuer
	Audience string `json:"audience,omitempty"`

	// Issuer is the iss claim.
	// Default: the origin the request came to (scheme://host[:port])
	Issuer string `json:"issuer,omitempty"`
}

// validate checks the header name and the lifetime, JSON or Caddyfile
// alike (the Caddyfile checks each line's setting and adds the line).
func (u *UpstreamAssertion) validate() error {
	if u.Header != "" && !validHeaderName(u.Header) {
		return fmt.Errorf("upstream_assertion: invalid header name %q", u.Header)
	}
	if u.Lifetime < 0 || time.Duration(u.Lifetime) > assertion.MaxLifetime {
		return fmt.Errorf("upstream_assertion: lifetime must be positive and at most %s", assertion.MaxLifetime)
	}
	return nil
}

// promptConfig returns the gate's settings for u, with placeholders
// replaced; nil when u is nil (no assertion).
func (u *UpstreamAssertion) promptConfig(repl *caddy.Replacer, keys *assertion.SigningKeys) (*assertion.Config, error) {
	if u == nil {
		return nil, nil
	}
	if err := u.validate(); err != nil {
		return nil, err
	}
	return &assertion.Config{
		Keys:     keys,
		Header:   u.Header,
		Lifetime: time.Duration(u.Lifetime),
		Audience: repl.ReplaceKnown(u.Audience, ""),
		Issuer:   repl.ReplaceKnown(u.Issuer, ""),
	}, nil
}
