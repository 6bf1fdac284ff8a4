package admin

import (
	"context"
	"fmt"

	"github.com/trustgate/trustgate/caddymodule/internal/sites"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// appName is the module ID of the trusted_endpoints app.
const appName = "trusted_endpoints"

// App is the running trusted_endpoints app (caddymodule.App) as the admin
// modules use it.
type App interface {
	// Store is the gateway's storage.
	Store() store.Store
	// RotateCookieKey adds a new generated cookie key to the store.
	RotateCookieKey(ctx context.Context) (store.CookieKey, error)
	// RotateSigningKey adds a new upstream-assertion signing key.
	RotateSigningKey(ctx context.Context, immediate bool) (store.SigningKey, error)
	// SigningKeys are the keys that sign upstream assertions.
	SigningKeys() *assertion.SigningKeys
	// RevokeDevice revokes a device on every instance and returns it.
	RevokeDevice(ctx context.Context, id string) (store.Device, error)
	// ActivateInventory makes a pending inventory of managed devices the
	// active one on every instance (runtime.Shared.ActivateInventory).
	ActivateInventory(ctx context.Context, id string) (store.Inventory, error)
	// RestorePreviousInventory makes the previous inventory active again
	// on every instance.
	RestorePreviousInventory(ctx context.Context) (store.Inventory, error)
	// Inventory is the active inventory every site looks certificates up
	// in.
	Inventory() *inventory.Active
	// Revocations are the revoked sessions every site shares.
	Revocations() *session.Revocations
	// Sites are the sites of the app's configuration.
	Sites() *sites.Registry
	// CarrySessions makes the configuration's trusted_endpoints handlers
	// hand each signed-in session on in the request's context.
	CarrySessions()
}

// asApp returns the trusted_endpoints app that a caddy.Context's App or
// AppIfConfigured returned, as App.
func asApp(app any) (App, error) {
	a, ok := app.(App)
	if !ok {
		return nil, fmt.Errorf("the trusted_endpoints app (%T) lacks the methods of admin.App", app)
	}
	return a, nil
}
