// Package storage holds the storage guest modules of trusted_endpoints: the
// modules of the trusted_endpoints.storage namespace, one per backend
// (sqlite, the default, in Caddy's data directory; postgres, for several
// instances), that the app loads from its "storage" object, named by its
// "backend" key. A module opens the store the gateway keeps its state in;
// the app shares one open store, with the runtime around it, among the
// configurations whose storage has the same backend and StoreKey. A third
// party adds a backend by registering a module that implements Storage.
// This package knows nothing of the app: caddymodule imports it.
package storage
