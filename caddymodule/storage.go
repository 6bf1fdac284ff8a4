package caddymodule

import (
	"fmt"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/caddymodule/storage"
)

// loadedStorage is the app's storage module and the key of its store in
// sharedPool.
type loadedStorage struct {
	storage.Storage
	key string
}

// loadStorage loads the storage module the config names, SQLite when it
// names none.
func (a *App) loadStorage(ctx caddy.Context) (loadedStorage, error) {
	backend, raw, err := storage.Backend(a.StorageRaw)
	if err != nil {
		return loadedStorage{}, err
	}
	if _, err := caddy.GetModule(storage.Namespace + "." + backend); err != nil {
		return loadedStorage{}, fmt.Errorf("unknown storage backend %q (want %s)", backend, storage.KnownBackends())
	}
	a.StorageRaw = raw
	mod, err := ctx.LoadModule(a, "StorageRaw")
	if err != nil {
		return loadedStorage{}, err
	}
	st, ok := mod.(storage.Storage)
	if !ok {
		return loadedStorage{}, fmt.Errorf("storage backend %q is not a store (%T has no StoreKey and OpenStore)", backend, mod)
	}
	return loadedStorage{Storage: st, key: backend + ":" + st.StoreKey()}, nil
}
