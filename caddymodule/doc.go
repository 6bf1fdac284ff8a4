// Package caddymodule plugs trustgate into Caddy: the trusted_endpoints app
// (state shared by every site and kept across reloads), the
// trusted_endpoints HTTP handler and its Caddyfile directive, and the
// global option. It is glue only: the flow lives in package prompt and
// decisions in package policy. Its guest modules are in login and storage,
// the admin API and dashboard modules in admin (which this package
// imports, so that importing caddymodule brings every module). The parts of
// its configuration that stand alone are under internal/: the parsing of
// integration blocks (integration), the registry of a configuration's
// sites (sites), the handler's device API limits (limits) and the app's
// scheduled inventory fetch (inventoryfetch).
package caddymodule
