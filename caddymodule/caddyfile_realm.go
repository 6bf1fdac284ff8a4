package caddymodule

import (
	"fmt"
	"unicode"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// maxRealmName bounds a session_realm name; it appears in logs.
const maxRealmName = 100

// unmarshalSessionRealm parses `session_realm <name>` and records where it
// was written, so that provisioning can name the line when the realm's
// sites have two login sources.
func (h *Handler) unmarshalSessionRealm(d *caddyfile.Dispenser) error {
	if h.SessionRealm != "" {
		return d.Err("session_realm already specified")
	}
	var name string
	if !d.AllArgs(&name) {
		return d.ArgErr()
	}
	if err := checkSessionRealm(name); err != nil {
		return d.WrapErr(err)
	}
	h.SessionRealm = name
	h.RealmDefinedAt = fmt.Sprintf("%s:%d", d.File(), d.Line())
	return nil
}

// checkSessionRealm checks a session_realm name, JSON or Caddyfile alike
// (the Caddyfile adds the line; there an empty name is refused too, while
// JSON's empty name means none).
func checkSessionRealm(name string) error {
	if err := validRealmName(name); err != nil {
		return fmt.Errorf("session_realm: %w", err)
	}
	return nil
}

// validRealmName checks a session_realm name: 1 to 100 printable
// characters, no spaces.
func validRealmName(name string) error {
	if name == "" || len(name) > maxRealmName {
		return fmt.Errorf("the name must have 1 to %d characters, got %d", maxRealmName, len(name))
	}
	for _, c := range name {
		if !unicode.IsPrint(c) || unicode.IsSpace(c) {
			return fmt.Errorf("the name %q holds a space or an unprintable character", name)
		}
	}
	return nil
}
