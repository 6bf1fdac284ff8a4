// Package prompt is the gateway's interactive flow over HTTP: it signs people
// in (a users file or OpenID Connect), keeps them signed in with an encrypted
// session cookie, serves the gateway's own pages under /.trustgate/, records
// every login in the auth log, and tells the caller who is asking so the
// request can go on to the protected application. A signed-in person whom
// the application's access rules (Config.Access) do not name is refused
// with a 403 on every request, from the session alone and before any device
// check; each refused session is logged once (access.go).
//
// A Gate is built from a Config by the Caddy glue (package caddymodule) but
// knows nothing of Caddy: it is plain net/http, and its storage is the
// store.Store interface. Decisions about devices belong to package policy.
package prompt
