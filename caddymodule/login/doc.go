// Package login holds the primary login sources of trusted_endpoints: the
// guest modules of the trusted_endpoints.login namespace that a site's
// handler loads from its "login" object, named by its "source" key. A
// source puts its part into the gate's configuration (ConfigureGate: a
// users file, or an OIDC relying party) and names the realm whose sessions
// it shares (Realm); one that is also a LoginChecker checks itself against
// the world outside the configuration (the OIDC provider) as the
// configuration loads. users_file and oidc are built in; a third party
// adds a source by registering a module that implements Login (and
// caddyfile.Unmarshaler, to be written as `login <name> ...`). This
// package knows nothing of the handler: caddymodule imports it.
package login
