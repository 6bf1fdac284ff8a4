package directive

import "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

// The order of trustgate's HTTP directives is set here, once, rather than
// by each directive's package: the dashboard (package admin) must land
// right after the gate (caddymodule), which signs the person in before the
// dashboard sees the request, and Caddy orders a plugin's directive only
// against a standard one. Both go before basic_auth, ahead of handle,
// route, respond and reverse_proxy, so that a proxied route can never skip
// the gate; this package is initialised before either package, so the
// order does not depend on which of them Go initialises first.
func init() {
	httpcaddyfile.RegisterDirectiveOrder("trusted_endpoints", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterDirectiveOrder("trusted_endpoints_dashboard", httpcaddyfile.Before, "basic_auth")
}
