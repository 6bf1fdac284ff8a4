package login

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/trustgate/trustgate/caddymodule/internal/directive"
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
		dur, err := directive.DurationArg(d)
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
		return directive.WrapAt(d, checkOIDCLogoutRedirect(o.LogoutRedirect))
	case "prompt":
		if !d.AllArgs(&o.Prompt) {
			return d.ArgErr()
		}
		return directive.WrapAt(d, checkOIDCPrompt(o.Prompt))
	default:
		return d.Errf("unknown oidc option %q", field)
	}
	if !d.AllArgs(target) {
		return d.ArgErr()
	}
	return nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*OIDCLogin)(nil)
