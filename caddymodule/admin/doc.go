// Package admin holds the Caddy modules through which operators see and
// steer the gateway: the admin API on Caddy's admin endpoint
// (admin.api.trusted_endpoints, which mounts prompt/adminapi) and the
// endpoints dashboard (the http.handlers.trusted_endpoints_dashboard
// handler and its Caddyfile directive, which mount prompt/dashboard).
//
// They reach the running trusted_endpoints app through App, the few
// methods they call, and never import caddymodule: a binary registers
// them by importing this package beside caddymodule (cmd/trustgate does).
// The dashboard reads the person the trusted_endpoints handler signed in
// from the request's context (caddymodule/internal/signedin).
package admin
