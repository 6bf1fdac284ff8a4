package adminapi

import (
	"context"
	"errors"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
)

// Gateway is what the admin API asks of the running gateway.
type Gateway interface {
	// Store is the gateway's storage.
	Store() Store
	Keys
	Devices
	Sites
	Inventories
}

// Store holds the store methods the admin API reads.
type Store interface {
	AuthLogReader
	ListDevices(ctx context.Context, q store.DeviceQuery) ([]store.Device, error)
	Device(ctx context.Context, id string) (store.Device, error)
	DeviceHealthHistory(ctx context.Context, id string, limit int) ([]store.HealthRecord, error)
	UserDevices(ctx context.Context, user string) ([]store.Device, error)
	RolloutImpact(ctx context.Context, q store.RolloutQuery) (store.RolloutImpact, error)
}

// AuthLogReader reads the auth log.
type AuthLogReader interface {
	QueryAuthLog(ctx context.Context, q store.AuthLogQuery) ([]store.AuthLogEntry, error)
}

// Keys rotates the gateway's keys.
type Keys interface {
	// RotateCookieKey adds a new session-cookie key and returns its ID and
	// when it starts signing.
	RotateCookieKey(ctx context.Context) (id string, signingAfter time.Time, err error)
	// RotateSigningKey adds a new upstream-assertion signing key; with
	// immediate it signs at once.
	RotateSigningKey(ctx context.Context, immediate bool) (store.SigningKey, error)
	// PublishedSigningKeys are the IDs of the keys this instance publishes.
	PublishedSigningKeys(now time.Time) []string
}

// ErrNotAnnounced marks a revocation or a change of the active inventory
// that holds and is stored, but that the other instances learn only on
// their next refresh.
var ErrNotAnnounced = errors.New("stored, but not announced to the other instances")

// Devices revokes devices and sessions and issues activation codes.
type Devices interface {
	// RevokeDevice revokes a device and drops every trust decision cached
	// for it, on every instance, and returns it. An unknown device is
	// store.ErrNotFound.
	RevokeDevice(ctx context.Context, id string) (store.Device, error)
	// RevokeUserSessions ends every session of user begun before before,
	// on every instance. An error wrapping ErrNotAnnounced still revoked.
	RevokeUserSessions(ctx context.Context, user string, before time.Time) error
	// IssueActivation stores a single-use activation code for user, whose
	// device it binds to the realm with ID realmID ("" for none).
	IssueActivation(ctx context.Context, user, realmID string, ttl time.Duration, now time.Time) (code string, err error)
	// ActivationLinks are the custom-scheme and HTTPS activation links of
	// code on the gateway at origin.
	ActivationLinks(origin, code string) (app, https string)
}

// Sites answers for the protected applications of the running
// configuration, by application name.
type Sites interface {
	// Applications are the names of the applications, sorted.
	Applications() []string
	// Policy is the device policy of application.
	Policy(application string) (policy.Policy, bool)
	// AccessRules are the access rules of application; nil lets everyone
	// in.
	AccessRules(application string) *policy.Access
	// CountsDevice reports whether the sites of application count d: it
	// is bound to their realm, or to none.
	CountsDevice(application string, d *store.Device) bool
	// Authorized reports whether the access rules of an entry's
	// application, as they are now, let its person in.
	Authorized() func(store.AuthLogEntry) bool
	// ActivationRealm is the realm an admin's activation code for
	// application binds its device to, and the realm's ID ("" for none).
	ActivationRealm(application string) (realm, id string, err error)
}

// Inventories keeps the inventories of managed devices: the store's
// methods, and the changes of the active one that every instance must
// follow at once.
type Inventories interface {
	// CreateInventory stores a new, empty, pending inventory.
	CreateInventory(ctx context.Context, inv store.Inventory) error
	// AddInventoryEntries adds entries to a pending inventory, all or
	// none.
	AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error
	// DeleteInventory deletes a pending inventory.
	DeleteInventory(ctx context.Context, id string) error
	// Inventories lists every inventory, newest first, with its count.
	Inventories(ctx context.Context) ([]store.Inventory, error)
	// InventoryEntries returns a page of an inventory's entries.
	InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error)
	// ActivateInventory makes the pending inventory id active on every
	// instance and returns it. An error wrapping ErrNotAnnounced still
	// activated it.
	ActivateInventory(ctx context.Context, id string) (store.Inventory, error)
	// RestorePreviousInventory makes the previous inventory active again
	// on every instance and returns it; store.ErrNotFound when there is
	// none. An error wrapping ErrNotAnnounced still restored it.
	RestorePreviousInventory(ctx context.Context) (store.Inventory, error)
	// ActiveInventory is this instance's index of the active inventory,
	// as the gate looks certificates up in it; nil while there is none.
	ActiveInventory() *inventory.Index
}
