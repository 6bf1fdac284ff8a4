package store

import (
	"context"
	"time"
)

// Inventory states. An inventory is made pending, filled, then activated;
// activating one makes the active one previous and drops the older
// previous one, so an operator can go back exactly one step.
const (
	InventoryPending  = "pending"
	InventoryActive   = "active"
	InventoryPrevious = "previous"
)

// EventInventory: the active inventory of managed devices changed (one was
// activated, or the previous one restored); every instance must reload it
// before it trusts another device certificate.
const EventInventory = "inventory"

// Inventory is one list of the organisation's managed devices, as a
// device-management system exports it. It changes as a whole: entries are
// added only while it is pending, and an activation replaces the active
// list for every site and instance at once.
type Inventory struct {
	// ID identifies the inventory; chosen by the caller, unique.
	ID string `json:"id"`
	// State is pending, active or previous.
	State string `json:"state"`
	// Source says where the entries came from, for operators: an admin
	// upload, or the URL the gateway fetched. Never a secret.
	Source string `json:"source,omitempty"`
	// Entries is how many entries the inventory holds.
	Entries int `json:"entries"`
	// Created is when the inventory was made; Activated when it last
	// became active (zero while it never was).
	Created   time.Time `json:"created"`
	Activated time.Time `json:"activated,omitzero"`
}

// InventoryEntry is one managed device. At least one of its identifiers is
// set; which one a site compares with the device certificate is the site's
// choice (managed { match ... }).
type InventoryEntry struct {
	// Fingerprint is the SHA-256 of the device certificate's DER bytes, as
	// 64 lowercase hex digits.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Serial is the device certificate's serial number, as lowercase hex
	// without leading zeros or separators.
	Serial string `json:"serial,omitempty"`
	// SANURI is a URI the device certificate carries in its subject
	// alternative names, naming the device (for example
	// "urn:device:7f3c..." or "device://host/ID").
	SANURI string `json:"san_uri,omitempty"`
	// HardwareSerial is the device's hardware serial number, as the
	// certificate carries it in its subject's serialNumber attribute.
	HardwareSerial string `json:"hardware_serial,omitempty"`
	// Platform is windows, macos, linux, ios or android.
	Platform string `json:"platform"`
	// Owner is the user the device is assigned to, if the export says.
	Owner string `json:"owner,omitempty"`
	// Label is free text for operators (a host name, an asset tag).
	Label string `json:"label,omitempty"`
}

// ManagedLogin is what the auth log keeps, as the DeviceFacts of a login a
// managed device vouched for, of that device: the inventory and its entry,
// so that views can tell which device it was without parsing free text.
type ManagedLogin struct {
	// Inventory is the ID of the active inventory that held the device.
	Inventory string `json:"inventory"`
	// Device is the device's entry in it.
	Device InventoryEntry `json:"managed_device"`
}

// InventoryStore keeps the inventories of managed devices, which every
// site and instance sharing the store uses.
type InventoryStore interface {
	// CreateInventory stores inv as a new pending inventory with no
	// entries (its State and Entries are ignored). It returns ErrConflict
	// when an inventory with inv.ID exists.
	CreateInventory(ctx context.Context, inv Inventory) error

	// AddInventoryEntries appends entries to the pending inventory id, all
	// of them or, on any error, none. It returns ErrNotFound when there is
	// no such inventory and ErrConflict when it is not pending.
	AddInventoryEntries(ctx context.Context, id string, entries []InventoryEntry) error

	// ActivateInventory makes the pending inventory id active at at: the
	// active one becomes previous, and the one that was previous is
	// deleted with its entries, in one transaction, so that two
	// activations racing leave exactly one active inventory. It returns
	// ErrNotFound when there is no such inventory and ErrConflict when it
	// is not pending.
	ActivateInventory(ctx context.Context, id string, at time.Time) error

	// RestorePreviousInventory makes the previous inventory active again
	// at at, and the active one previous, in one transaction; it returns
	// the inventory now active, or ErrNotFound when there is no previous
	// one.
	RestorePreviousInventory(ctx context.Context, at time.Time) (Inventory, error)

	// DeleteInventory deletes the pending inventory id with its entries. It
	// returns ErrNotFound when there is no such inventory and ErrConflict
	// when it is not pending (the active and previous ones are only
	// replaced, never deleted).
	DeleteInventory(ctx context.Context, id string) error

	// Inventories returns every inventory, newest Created first, with its
	// entry count.
	Inventories(ctx context.Context) ([]Inventory, error)

	// InventoryEntries returns at most limit entries of inventory id, in
	// the order they were added, starting after the first offset ones
	// (offset 0 is the beginning). It returns ErrNotFound when there is no
	// such inventory.
	InventoryEntries(ctx context.Context, id string, offset, limit int) ([]InventoryEntry, error)
}
