package caddymodule

import (
	"net/url"
	"slices"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// oidcPrompts are the prompt values the gateway may send with every
// authorization request ("none" would fail every interactive sign-in).
var oidcPrompts = []string{"login", "consent", "select_account"}

// parseOIDCSession parses the login oidc options about the provider's
// session: logout_redirect <url>, prompt <value>, revalidate <duration>.
func parseOIDCSession(d *caddyfile.Dispenser, o *OIDCConfig, field string) error {
	switch field {
	case "logout_redirect":
		if !d.AllArgs(&o.LogoutRedirect) {
			return d.ArgErr()
		}
		u, err := url.Parse(o.LogoutRedirect)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return d.Errf("logout_redirect %q must be an absolute http(s) URL", o.LogoutRedirect)
		}
	case "prompt":
		if !d.AllArgs(&o.Prompt) {
			return d.ArgErr()
		}
		if !slices.Contains(oidcPrompts, o.Prompt) {
			return d.Errf("prompt %q: want one of %v", o.Prompt, oidcPrompts)
		}
	case "revalidate":
		dur, err := parseDurationArg(d)
		if err != nil {
			return err
		}
		if dur <= 0 {
			return d.Errf("revalidate must be positive, got %s", d.Val())
		}
		o.Revalidate = dur
	}
	return nil
}
