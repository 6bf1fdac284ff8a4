// Package caddymodule plugs trustgate into Caddy: the trusted_endpoints app
// (state shared by every site and kept across reloads), the
// trusted_endpoints HTTP handler and its Caddyfile directive, the global
// option, and the admin API routes. It is glue only: the flow lives in
// package prompt and decisions in package policy.
package caddymodule
