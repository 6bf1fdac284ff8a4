package adminapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
)

// storeGateway adds to inventoryGateway its SQLite store and the index of
// its active inventory, as an instance holds it once activated.
type storeGateway struct {
	*inventoryGateway
}

func (g storeGateway) Store() Store { return g.st }

func (g storeGateway) ActiveInventory() *inventory.Index {
	list, _ := g.st.Inventories(context.Background())
	for _, inv := range list {
		if inv.State == store.InventoryActive {
			entries, _ := g.st.InventoryEntries(context.Background(), inv.ID, 0, inv.Entries)
			return inventory.NewIndex(inv, entries)
		}
	}
	return nil
}

// newStoreAPI returns an admin API over a new SQLite store whose active
// inventory the gateway indexes.
func newStoreAPI(t *testing.T) (*Handler, storeGateway) {
	t.Helper()
	_, inv := newInventoryAPI(t)
	gw := storeGateway{inv}
	return New(func() (Gateway, error) { return gw, nil }, zap.NewNop()), gw
}

// managedDevicesAnswer is the answer of GET /trusted-endpoints/managed-devices.
type managedDevicesAnswer struct {
	Inventory string
	Devices   []map[string]any
	// NextOffset is a pointer to tell absent from 0.
	NextOffset *int `json:"next_offset"`
}

// activateCSV uploads csv as a new inventory, activates it and returns
// its ID.
func activateCSV(t *testing.T, h *Handler, csv string) string {
	t.Helper()
	id := createInventory(t, h)
	if status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", csv, nil); status != http.StatusOK {
		t.Fatalf("upload: %d", status)
	}
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/"+id+"/activate", "", "", nil); status != http.StatusOK {
		t.Fatalf("activate: %d", status)
	}
	return id
}

// TestManagedDevicesListTheActiveInventoryWithLastSeen: each entry of the
// active inventory comes with integration managed, its identifiers and
// the time of the latest trusted managed login whose facts name it; an
// entry never seen has no last_seen, and a login naming the same entry of
// another inventory does not count.
func TestManagedDevicesListTheActiveInventoryWithLastSeen(t *testing.T) {
	t.Parallel()
	h, gw := newStoreAPI(t)
	var empty managedDevicesAnswer
	if status := call(t, h, "GET", "/trusted-endpoints/managed-devices", "", "", &empty); status != http.StatusOK || empty.Inventory != "" || len(empty.Devices) != 0 {
		t.Fatalf("without an active inventory: %d %+v, want 200 and no devices", status, empty)
	}
	id := activateCSV(t, h, "fingerprint,serial,platform,owner,label\n"+
		fingerprintA+",,windows,alice,laptop-1\n"+
		fingerprintB+",0a1b,macos,bob,mac-2\n")
	entries, err := gw.st.InventoryEntries(t.Context(), id, 0, 10)
	if err != nil || len(entries) != 2 {
		t.Fatalf("entries %+v, %v", entries, err)
	}
	at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	for i, login := range []store.ManagedLogin{
		{Inventory: id, Device: entries[0]},
		{Inventory: id, Device: entries[0]},
		{Inventory: "other", Device: entries[1]},
	} {
		facts, err := json.Marshal(login)
		if err != nil {
			t.Fatal(err)
		}
		e := store.AuthLogEntry{Time: at.Add(-time.Duration(i) * time.Hour), User: "alice", Application: "wiki",
			Result: store.ResultSuccess, TrustStatus: "trusted", Integration: "managed", Factor: "managed_certificate", DeviceFacts: facts}
		if _, err := gw.st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	var got managedDevicesAnswer
	if status := call(t, h, "GET", "/trusted-endpoints/managed-devices", "", "", &got); status != http.StatusOK {
		t.Fatalf("list: %d %+v", status, got)
	}
	if got.Inventory != id || len(got.Devices) != 2 || got.NextOffset != nil {
		t.Fatalf("list %+v, want inventory %s's 2 devices on one page", got, id)
	}
	want := []map[string]any{
		{"integration": "managed", "fingerprint": fingerprintA, "platform": "windows", "owner": "alice", "label": "laptop-1", "last_seen": "2026-05-01T09:30:00Z"},
		{"integration": "managed", "fingerprint": fingerprintB, "serial": "a1b", "platform": "macos", "owner": "bob", "label": "mac-2"},
	}
	for i, w := range want {
		if len(got.Devices[i]) != len(w) {
			t.Errorf("device %d = %v, want %v", i, got.Devices[i], w)
		}
		for k, v := range w {
			if got.Devices[i][k] != v {
				t.Errorf("device %d %s = %v, want %v", i, k, got.Devices[i][k], v)
			}
		}
	}
}

// TestManagedDevicesArePaged: offset and limit page through the active
// inventory; next_offset is absent on the last page.
func TestManagedDevicesArePaged(t *testing.T) {
	t.Parallel()
	h, _ := newStoreAPI(t)
	activateCSV(t, h, "hardware_serial,platform\nHW-1,windows\nHW-2,linux\nHW-3,macos\n")
	var seen []any
	for path, pages := "/trusted-endpoints/managed-devices?limit=2", 0; ; pages++ {
		if pages > 2 {
			t.Fatalf("more pages than the 3 entries need: %v", seen)
		}
		var page managedDevicesAnswer
		if status := call(t, h, "GET", path, "", "", &page); status != http.StatusOK {
			t.Fatalf("%s: %d", path, status)
		}
		for _, d := range page.Devices {
			seen = append(seen, d["hardware_serial"])
		}
		if page.NextOffset == nil {
			break
		}
		path = "/trusted-endpoints/managed-devices?limit=2&offset=" + strconv.Itoa(*page.NextOffset)
	}
	if len(seen) != 3 || seen[0] != "HW-1" || seen[1] != "HW-2" || seen[2] != "HW-3" {
		t.Errorf("paged through %v, want HW-1, HW-2, HW-3", seen)
	}
	if status := call(t, h, "GET", "/trusted-endpoints/managed-devices?offset=-1", "", "", nil); status != http.StatusBadRequest {
		t.Errorf("offset -1: %d, want 400", status)
	}
	if status := call(t, h, "POST", "/trusted-endpoints/managed-devices", "", "", nil); status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", status)
	}
}

// TestMobileDevicesCarryIntegrationMobile: the devices of
// GET /trusted-endpoints/devices say that the mobile app vouches for them.
func TestMobileDevicesCarryIntegrationMobile(t *testing.T) {
	t.Parallel()
	h, gw := newStoreAPI(t)
	d := store.Device{ID: "device-1", User: "alice", PublicKey: json.RawMessage(`{}`), Platform: "ios", Created: time.Now().UTC()}
	if err := gw.st.CreateDevice(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	var got struct{ Devices []map[string]any }
	if status := call(t, h, "GET", "/trusted-endpoints/devices", "", "", &got); status != http.StatusOK {
		t.Fatalf("list: %d", status)
	}
	if len(got.Devices) != 1 || got.Devices[0]["integration"] != "mobile" || got.Devices[0]["id"] != "device-1" || got.Devices[0]["user"] != "alice" {
		t.Errorf("devices %v, want device-1 of alice with integration mobile", got.Devices)
	}
}
