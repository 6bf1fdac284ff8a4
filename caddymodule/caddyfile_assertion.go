package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/trustgate/trustgate/caddymodule/internal/directive"
)

// unmarshalUpstreamAssertion parses the upstream_assertion option of the
// handler, which turns the signed upstream assertion on. Syntax:
//
//	upstream_assertion {
//		header   <name>
//		lifetime <duration>
//		audience <aud>
//		issuer   <iss>
//	}
//
// Without a block, every setting takes its default (header
// X-Trustgate-Assertion, lifetime 60s, issuer the request's origin,
// audience the issuer).
func (h *Handler) unmarshalUpstreamAssertion(d *caddyfile.Dispenser) error {
	if h.UpstreamAssertion != nil {
		return d.Err("upstream_assertion already specified")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	u := new(UpstreamAssertion)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch option := d.Val(); option {
		case "header":
			if !d.AllArgs(&u.Header) {
				return d.ArgErr()
			}
			if err := (&UpstreamAssertion{Header: u.Header}).validate(); err != nil {
				return d.WrapErr(err)
			}
		case "lifetime":
			dur, err := directive.DurationArg(d)
			if err != nil {
				return err
			}
			if err := (&UpstreamAssertion{Lifetime: dur}).validate(); err != nil {
				return d.WrapErr(err)
			}
			u.Lifetime = dur
		case "audience":
			if !d.AllArgs(&u.Audience) {
				return d.ArgErr()
			}
		case "issuer":
			if !d.AllArgs(&u.Issuer) {
				return d.ArgErr()
			}
		default:
			return d.Errf("unknown upstream_assertion option %q (want header, lifetime, audience or issuer)", option)
		}
	}
	h.UpstreamAssertion = u
	return nil
}

// parseSigningKeyRotation parses the signing_key_rotation global option:
//
//	signing_key_rotation <duration>|off
//
// off never rotates automatically, which is stored as a negative duration.
func parseSigningKeyRotation(d *caddyfile.Dispenser, app *App) error {
	if app.SigningKeyRotation != 0 {
		return d.Err("signing_key_rotation already specified")
	}
	var raw string
	if !d.AllArgs(&raw) {
		return d.ArgErr()
	}
	if raw == "off" {
		app.SigningKeyRotation = -1
		return nil
	}
	dur, err := caddy.ParseDuration(raw)
	if err != nil || dur < minSigningKeyRotation {
		return d.Errf("signing_key_rotation must be a duration of at least %s, such as 30d, or off; got %q", minSigningKeyRotation, raw)
	}
	app.SigningKeyRotation = caddy.Duration(dur)
	return nil
}
