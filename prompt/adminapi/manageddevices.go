package adminapi

import (
	"net/http"
	"time"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// managedLoginScan bounds the recent managed logins that last_seen is
// read from, so a page costs one bounded auth-log query.
const managedLoginScan = 1000

// managedDevice is one entry of the active inventory, as
// GET /trusted-endpoints/managed-devices shows it.
type managedDevice struct {
	// Integration is what vouches for the device: always "managed".
	Integration string `json:"integration"`
	store.InventoryEntry
	// LastSeen is when a login this device vouched for last succeeded,
	// among the recent ones; absent when none.
	LastSeen time.Time `json:"last_seen,omitzero"`
}

// managedDevicesPage is the answer of GET /trusted-endpoints/managed-devices.
type managedDevicesPage struct {
	// Inventory is the ID of the active inventory; absent while none is
	// active, and then Devices is empty.
	Inventory string `json:"inventory,omitempty"`
	// Devices are the inventory's entries from offset, in the order they
	// were uploaded.
	Devices []managedDevice `json:"devices"`
	// NextOffset, when set, fetches the next page as ?offset=; absent on
	// the last page.
	NextOffset int `json:"next_offset,omitempty"`
}

// listManagedDevices serves GET /trusted-endpoints/managed-devices.
func (h *Handler) listManagedDevices(w http.ResponseWriter, r *http.Request) error {
	offset, limit, err := readPage(r)
	if err != nil {
		return err
	}
	gw, err := h.gateway()
	if err != nil {
		return err
	}
	page := managedDevicesPage{Devices: []managedDevice{}}
	inv := gw.ActiveInventory().Inventory()
	if inv.ID == "" {
		web.WriteJSON(w, http.StatusOK, page)
		return nil
	}
	page.Inventory = inv.ID
	entries, next, err := entriesPage(r.Context(), gw, inv.ID, offset, limit)
	if err != nil {
		return inventoryError(err, inv.ID, "reading the active inventory")
	}
	page.NextOffset = next
	logins, err := gw.Store().QueryAuthLog(r.Context(), inventory.LoginQuery(managedLoginScan))
	if err != nil {
		return unavailable("reading managed logins", err)
	}
	seen := inventory.LastSeen(logins)
	for _, e := range entries {
		page.Devices = append(page.Devices, managedDevice{
			Integration:    "managed",
			InventoryEntry: e,
			LastSeen:       seen[store.ManagedLogin{Inventory: inv.ID, Device: e}],
		})
	}
	web.WriteJSON(w, http.StatusOK, page)
	return nil
}
