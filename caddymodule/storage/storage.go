package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/store"
)

// Namespace is the namespace of the storage modules: the module
// trusted_endpoints.storage.<backend> opens the store of that backend.
const Namespace = "trusted_endpoints.storage"

// DefaultBackend is the backend when the config names none.
const DefaultBackend = "sqlite"

// Storage is what a trusted_endpoints.storage module does: it opens the
// store the gateway keeps its state in. A third party adds a store by
// registering a module in that namespace whose store passes the
// conformance suite (prompt/store/storetest). The module is loaded, and
// provisioned, with every configuration; the store is opened only when no
// configuration already holds the store of that key.
type Storage interface {
	// StoreKey identifies the store among the module's: configurations
	// whose storage has the same backend and key share one open store, and
	// the state kept with it, across reloads. It may hold a secret (a
	// connection string with a password) and is never logged.
	StoreKey() string
	// OpenStore opens the store; ctx bounds the opening. Errors must not
	// carry secrets.
	OpenStore(ctx context.Context) (store.Store, error)
}

// Backend returns the backend raw names, and raw with the backend
// filled in when it names none (an absent storage, or an older config
// giving only a path): SQLite.
func Backend(raw json.RawMessage) (string, json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &fields); err != nil {
			return "", nil, fmt.Errorf("storage: %w", err)
		}
	}
	var backend string
	if b, ok := fields["backend"]; ok {
		if err := json.Unmarshal(b, &backend); err != nil {
			return "", nil, fmt.Errorf("storage backend: %w", err)
		}
	}
	if backend != "" {
		return backend, raw, nil
	}
	fields["backend"], _ = json.Marshal(DefaultBackend)
	filled, err := json.Marshal(fields)
	if err != nil {
		return "", nil, fmt.Errorf("storage: %w", err)
	}
	return DefaultBackend, filled, nil
}

// KnownBackends names the registered storage backends, as in
// "postgres or sqlite".
func KnownBackends() string {
	var names []string
	for _, m := range caddy.GetModules(Namespace) {
		names = append(names, m.ID.Name())
	}
	slices.Sort(names)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ParseCaddyfile parses the storage line of the global option with the
// Caddyfile parser of the storage module it names,
// trusted_endpoints.storage.<backend>, and returns the module's JSON;
// the dispenser is at the "storage" token.
func ParseCaddyfile(d *caddyfile.Dispenser) (json.RawMessage, error) {
	if !d.NextArg() {
		return nil, d.ArgErr()
	}
	backend := d.Val()
	if _, err := caddy.GetModule(Namespace + "." + backend); err != nil {
		return nil, d.Errf("unknown storage backend %q (want %s)", backend, KnownBackends())
	}
	unm, err := caddyfile.UnmarshalModule(d, Namespace+"."+backend)
	if err != nil {
		return nil, err
	}
	return caddyconfig.JSONModuleObject(unm, "backend", backend, nil), nil
}
