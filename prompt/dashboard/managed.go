package dashboard

import (
	"net/url"
	"strconv"
	"time"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
)

// managedView is the endpoints page's section of managed devices: a page
// of the active inventory's entries, each with when a managed login last
// named it.
type managedView struct {
	Inventory store.Inventory
	Devices   []managedRow
	Next      string
	// Scanned is how many recent managed logins "last seen" was read
	// from.
	Scanned int
}

// managedRow is one managed device.
type managedRow struct {
	store.InventoryEntry
	// Identifiers are the entry's identifiers, each "kind value".
	Identifiers []string
	LastSeen    time.Time
}

// managedLoginScan bounds the recent managed logins that "last seen" is
// read from, so the page costs one bounded auth-log query.
const managedLoginScan = 1000

// managedDevices returns the section of managed devices from offset, or
// nil while no inventory is active.
func (v *request) managedDevices(offset int) (*managedView, error) {
	index := v.h.cfg.Gateway.ActiveInventory()
	inv := index.Inventory()
	if inv.ID == "" {
		return nil, nil
	}
	gw := v.h.cfg.Gateway
	entries, err := gw.InventoryEntries(v.r.Context(), inv.ID, offset, dashboardPageSize+1)
	if err != nil {
		return nil, storeFailed("reading the active inventory", err)
	}
	view := &managedView{Inventory: inv}
	if len(entries) > dashboardPageSize {
		entries = entries[:dashboardPageSize]
		view.Next = v.h.link("/endpoints") + "?" + url.Values{"managed_offset": {strconv.Itoa(offset + dashboardPageSize)}}.Encode() + "#managed"
	}
	// The gate keeps the managed device of a login in its facts (the
	// inventory and the entry); the latest login of each counts.
	logins, err := v.store().QueryAuthLog(v.r.Context(), inventory.LoginQuery(managedLoginScan))
	if err != nil {
		return nil, storeFailed("reading managed logins", err)
	}
	view.Scanned = len(logins)
	seen := inventory.LastSeen(logins)
	for _, e := range entries {
		row := managedRow{InventoryEntry: e, LastSeen: seen[store.ManagedLogin{Inventory: inv.ID, Device: e}]}
		for _, id := range []struct{ kind, value string }{
			{"fingerprint", e.Fingerprint}, {"serial", e.Serial}, {"san_uri", e.SANURI}, {"hardware_serial", e.HardwareSerial},
		} {
			if id.value != "" {
				row.Identifiers = append(row.Identifiers, id.kind+" "+clip(id.value, 24))
			}
		}
		view.Devices = append(view.Devices, row)
	}
	return view, nil
}
