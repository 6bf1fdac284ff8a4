package caddymodule

// The admin API and dashboard modules live in package admin, which never
// imports this one; importing it here means a binary that imports
// caddymodule (as an xcaddy build does) has every trustgate module, as it
// has the login and storage guest modules this package imports.
import _ "github.com/trustgate/trustgate/caddymodule/admin"
