package admin

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/dashboard"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/runtime"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// gateway is the running app as the admin API and the dashboard see it
// (adminapi.Gateway, dashboard.Gateway).
type gateway struct {
	app App
}

// Store returns the app's store.
func (g gateway) Store() adminapi.Store { return g.app.Store() }

// RotateCookieKey adds a new cookie key; it signs after
// prompt.KeyPropagationDelay.
func (g gateway) RotateCookieKey(ctx context.Context) (string, time.Time, error) {
	key, err := g.app.RotateCookieKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	return key.ID, key.Created.Add(session.KeyPropagationDelay), nil
}

// RotateSigningKey adds a new upstream-assertion signing key.
func (g gateway) RotateSigningKey(ctx context.Context, immediate bool) (store.SigningKey, error) {
	return g.app.RotateSigningKey(ctx, immediate)
}

// PublishedSigningKeys are the key IDs this instance's JWKS holds.
func (g gateway) PublishedSigningKeys(now time.Time) []string {
	return g.app.SigningKeys().PublishedKeyIDs(now)
}

// RevokeDevice revokes a device on every instance at once
// (runtime.Shared.RevokeDevice). An unknown device is store.ErrNotFound.
func (g gateway) RevokeDevice(ctx context.Context, id string) (store.Device, error) {
	return g.app.RevokeDevice(ctx, id)
}

// RevokeUserSessions ends every session of user begun before before, on
// every instance.
func (g gateway) RevokeUserSessions(ctx context.Context, user string, before time.Time) error {
	err := g.app.Revocations().RevokeUserSessions(ctx, g.app.Store(), user, before)
	if session.IsStoredButNotAnnounced(err) {
		return fmt.Errorf("%w: %w", adminapi.ErrNotAnnounced, err)
	}
	return err
}

// CreateInventory stores a new pending inventory.
func (g gateway) CreateInventory(ctx context.Context, inv store.Inventory) error {
	return g.app.Store().CreateInventory(ctx, inv)
}

// AddInventoryEntries adds entries to a pending inventory, all or none.
func (g gateway) AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error {
	return g.app.Store().AddInventoryEntries(ctx, id, entries)
}

// DeleteInventory deletes a pending inventory.
func (g gateway) DeleteInventory(ctx context.Context, id string) error {
	return g.app.Store().DeleteInventory(ctx, id)
}

// Inventories lists every inventory with its count.
func (g gateway) Inventories(ctx context.Context) ([]store.Inventory, error) {
	return g.app.Store().Inventories(ctx)
}

// InventoryEntries returns a page of an inventory's entries.
func (g gateway) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	return g.app.Store().InventoryEntries(ctx, id, offset, limit)
}

// ActivateInventory makes a pending inventory active on every instance.
func (g gateway) ActivateInventory(ctx context.Context, id string) (store.Inventory, error) {
	return announced(g.app.ActivateInventory(ctx, id))
}

// RestorePreviousInventory makes the previous inventory active again on
// every instance.
func (g gateway) RestorePreviousInventory(ctx context.Context) (store.Inventory, error) {
	return announced(g.app.RestorePreviousInventory(ctx))
}

// ActiveInventory is this instance's index of the active inventory.
func (g gateway) ActiveInventory() *inventory.Index { return g.app.Inventory().Index() }

// announced marks a change of the active inventory that holds but was not
// announced as adminapi.ErrNotAnnounced.
func announced(inv store.Inventory, err error) (store.Inventory, error) {
	if errors.Is(err, runtime.ErrNotAnnounced) {
		return inv, fmt.Errorf("%w: %w", adminapi.ErrNotAnnounced, err)
	}
	return inv, err
}

// IssueActivation stores a new activation code for user.
func (g gateway) IssueActivation(ctx context.Context, user, realmID string, ttl time.Duration, now time.Time) (string, error) {
	return device.IssueActivation(ctx, g.app.Store(), user, realmID, ttl, now)
}

// ActivationLinks returns the activation links of code at origin.
func (g gateway) ActivationLinks(origin, code string) (app, https string) {
	return device.ActivationLinks(origin, code)
}

// ActivationQR draws an activation link as a QR code.
func (g gateway) ActivationQR(link string) (template.URL, error) {
	return prompt.ActivationQR(link)
}

// Applications returns the configuration's application names, sorted.
func (g gateway) Applications() []string { return g.app.Sites().Applications() }

// Policy returns the device policy of application.
func (g gateway) Policy(application string) (policy.Policy, bool) {
	return g.app.Sites().Policy(application)
}

// AccessRules returns the access rules of application.
func (g gateway) AccessRules(application string) *policy.Access {
	return g.app.Sites().AccessRules(application)
}

// CountsDevice reports whether application's sites count d.
func (g gateway) CountsDevice(application string, d *store.Device) bool {
	return device.InRealm(d, g.app.Sites().ApplicationRealmID(application))
}

// Authorized reports whether an entry's person passes the access rules of
// its application, as they are now.
func (g gateway) Authorized() func(store.AuthLogEntry) bool { return g.app.Sites().Authorized() }

// ActivationRealm returns the realm an admin code for application binds
// its device to.
func (g gateway) ActivationRealm(application string) (realm, id string, err error) {
	return g.app.Sites().ActivationRealm(application)
}

// Interface guards
var (
	_ adminapi.Gateway  = gateway{}
	_ dashboard.Gateway = gateway{}
)
