package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt/store"
)

// storageNamespace is the namespace of the storage modules: the module
// trusted_endpoints.storage.<backend> opens the store of that backend.
const storageNamespace = "trusted_endpoints.storage"

// defaultStorageBackend is the backend when the config names none.
const defaultStorageBackend = "sqlite"

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

// loadedStorage is the app's storage module and the key of its store in
// sharedPool.
type loadedStorage struct {
	Storage
	key string
}

// loadStorage loads the storage module the config names, SQLite when it
// names none.
func (a *App) loadStorage(ctx caddy.Context) (loadedStorage, error) {
	backend, raw, err := storageBackend(a.StorageRaw)
	if err != nil {
		return loadedStorage{}, err
	}
	if _, err := caddy.GetModule(storageNamespace + "." + backend); err != nil {
		return loadedStorage{}, fmt.Errorf("unknown storage backend %q (want %s)", backend, knownStorageBackends())
	}
	a.StorageRaw = raw
	mod, err := ctx.LoadModule(a, "StorageRaw")
	if err != nil {
		return loadedStorage{}, err
	}
	storage, ok := mod.(Storage)
	if !ok {
		return loadedStorage{}, fmt.Errorf("storage backend %q is not a store (%T has no StoreKey and OpenStore)", backend, mod)
	}
	return loadedStorage{Storage: storage, key: backend + ":" + storage.StoreKey()}, nil
}

// storageBackend returns the backend raw names, and raw with the backend
// filled in when it names none (an absent storage, or an older config
// giving only a path): SQLite.
func storageBackend(raw json.RawMessage) (string, json.RawMessage, error) {
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
	fields["backend"], _ = json.Marshal(defaultStorageBackend)
	filled, err := json.Marshal(fields)
	if err != nil {
		return "", nil, fmt.Errorf("storage: %w", err)
	}
	return defaultStorageBackend, filled, nil
}

// knownStorageBackends names the registered storage backends, as in
// "postgres or sqlite".
func knownStorageBackends() string {
	var names []string
	for _, m := range caddy.GetModules(storageNamespace) {
		names = append(names, m.ID.Name())
	}
	slices.Sort(names)
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
