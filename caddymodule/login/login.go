package login

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
)

// Namespace is the Caddy namespace of the login sources; Key the JSON
// key that names one in a handler's "login" object.
const (
	Namespace = "trusted_endpoints.login"
	Key       = "source"
)

// Login is a primary login source: a guest module in the
// trusted_endpoints.login namespace, which a site's handler loads from its
// "login" object, named by that object's "source" key. users_file and
// oidc are built in. A third party adds a source by registering a module
// that implements Login (and caddyfile.Unmarshaler, to be written as
// `login <name> ...` in a Caddyfile).
type Login interface {
	// ConfigureGate puts the login into the gate's configuration: Users,
	// or OIDC with its redirect, logout and revalidation settings.
	// cfg.Logger is the site's logger.
	ConfigureGate(cfg *prompt.Config) error

	// Realm names the login source after ConfigureGate: the site's realm
	// unless session_realm names another, so the sites whose sources
	// have the same name share sessions. A name starts with the source
	// ("users_file:", "oidc:"), never with "realm:".
	Realm() (string, error)
}

// LoginChecker is a Login that checks itself against the world outside the
// configuration (the OIDC provider) when the configuration loads, after
// ConfigureGate; an error refuses the configuration.
type LoginChecker interface {
	CheckLogin(logger *zap.Logger) error
}

// CheckSource refuses a login object that names no source, which is
// also the shape of the JSON before login sources were modules
// ({"users_file": ...} or {"oidc": {...}}), with a message that says what
// to write instead.
func CheckSource(raw json.RawMessage) error {
	if len(raw) == 0 {
		return fmt.Errorf("login: no primary login configured (%s)", Sources())
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	if _, ok := fields[Key]; ok {
		return nil
	}
	_, usersFile := fields["users_file"]
	_, oidc := fields["oidc"]
	switch {
	case usersFile && oidc:
		return errors.New(`login: choose users_file or oidc, not both (and write it as {"source": "users_file", "path": ...} or {"source": "oidc", "issuer": ...})`)
	case usersFile:
		return errors.New(`login: name the source: {"source": "users_file", "path": <path>}`)
	case oidc:
		return errors.New(`login: name the source: {"source": "oidc", "issuer": ..., "client_id": ...}`)
	}
	return fmt.Errorf("login: name the source with %q (%s)", Key, Sources())
}

// ParseCaddyfile parses `login <source> ...` with the Caddyfile
// unmarshaler of the source's module and returns the handler's login
// object; the dispenser is at the "login" token.
func ParseCaddyfile(d *caddyfile.Dispenser) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	source := d.Val()
	id := Namespace + "." + source
	if _, err := caddy.GetModule(id); err != nil {
		return nil, d.Errf("unknown login kind %q (want %s)", source, Sources())
	}
	unm, err := caddyfile.UnmarshalModule(d, id)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(unm, Key, source, nil), nil
}

// Sources lists the registered login sources, the built-in ones
// first: "users_file or oidc".
func Sources() string {
	names := []string{"users_file", "oidc"}
	for _, m := range caddy.GetModules(Namespace) {
		if name := m.ID.Name(); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
