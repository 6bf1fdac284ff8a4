package login

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// UnmarshalCaddyfile sets up the OIDC login from the rest of a
// `login oidc { ... }` block (see Handler.UnmarshalCaddyfile for the
// options). It only builds the settings; OIDCLogin's checks give the
// errors, with the line of the option they concern.
func (o *OIDCLogin) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the source's name
	if d.NextArg() {
		return d.ArgErr()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if err := o.unmarshalOption(d); err != nil {
			return err
		}
	}
	if err := o.checkRequired(); err != nil {
		return d.WrapErr(err)
	}
	return nil
}

// unmarshalOption parses one line of the oidc block.
func (o *OIDCLogin) unmarshalOption(d *caddyfile.Dispenser) error {
	var target *string
	switch field := d.Val(); field {
	case "issuer":
		target = &o.Issuer
	case "client_id":
		target = &o.ClientID
	case "client_secret":
		target = &o.ClientSecret
	case "groups_claim":
		target = &o.GroupsClaim
	case "user_claim":
		target = &o.UserClaim
	case "redirect_url":
		target = &o.RedirectURL
	case "scopes":
		o.Scopes = d.RemainingArgs()
		if len(o.Scopes) == 0 {
			return d.ArgErr()
		}
		return nil
	case "timeout", "revalidate":
		dur, err := durationArg(d)
		if err != nil {
			return err
		}
		if field == "timeout" {
			o.Timeout = dur
		} else {
			o.Revalidate = dur
		}
		return nil
	case "logout_redirect":
		if !d.AllArgs(&o.LogoutRedirect) {
			return d.ArgErr()
		}
		return wrapAt(d, checkOIDCLogoutRedirect(o.LogoutRedirect))
	case "prompt":
		if !d.AllArgs(&o.Prompt) {
			return d.ArgErr()
		}
		return wrapAt(d, checkOIDCPrompt(o.Prompt))
	default:
		return d.Errf("unknown oidc option %q", field)
	}
	if !d.AllArgs(target) {
		return d.ArgErr()
	}
	return nil
}

// wrapAt adds the dispenser's file and line to a setting's error, so that
// a Caddyfile's error is the JSON's error with its position.
func wrapAt(d *caddyfile.Dispenser, err error) error {
	if err == nil {
		return nil
	}
	return d.WrapErr(err)
}

// durationArg parses the one positive duration of an option's line (as
// caddymodule's own options do).
func durationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	var raw string
	if !d.AllArgs(&raw) {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(raw)
	if err != nil {
		return 0, d.Errf("invalid duration %q: %v", raw, err)
	}
	if dur <= 0 {
		return 0, d.Errf("duration must be positive, got %q", raw)
	}
	return caddy.Duration(dur), nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*OIDCLogin)(nil)
