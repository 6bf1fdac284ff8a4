package dashboard

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// TestEndpointsListManagedDevicesWithLastSeen: the endpoints page lists
// the active inventory's devices beside the app's, each with its
// identifiers and when a trusted managed login last named it.
func TestEndpointsListManagedDevicesWithLastSeen(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	if body := get(h, testAdmin, "GET", "/admin/endpoints").Body.String(); !strings.Contains(body, "No inventory of managed devices is active") {
		t.Fatalf("without an inventory:\n%s", body)
	}
	ct, body := uploadForm(t, testAdmin.CSRF, "mdm", "export.csv", goodCSV)
	if rec := post(h, "/admin/inventories", ct, body); rec.Code != http.StatusSeeOther {
		t.Fatalf("upload = %d", rec.Code)
	}
	inv := inventoriesOf(t, gw)[0]
	postAction(h, "/admin/inventories/"+inv.ID+"/activate", testAdmin.CSRF)
	at := time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC)
	devices, err := gw.st.InventoryEntries(t.Context(), inv.ID, 0, 10)
	if err != nil || len(devices) != 2 {
		t.Fatalf("inventory entries %+v, %v", devices, err)
	}
	facts := func(inventory string, d store.InventoryEntry) json.RawMessage {
		raw, err := json.Marshal(store.ManagedLogin{Inventory: inventory, Device: d})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for i, e := range []store.AuthLogEntry{
		{DeviceFacts: facts(inv.ID, devices[0])},
		{DeviceFacts: facts(inv.ID, devices[0])},
		// Another inventory's device of the same identifiers is not this one.
		{DeviceFacts: facts("other", devices[1])},
	} {
		e.Time, e.User, e.Application, e.Result = at.Add(-time.Duration(i)*time.Hour), "alice", "wiki", store.ResultSuccess
		e.TrustStatus, e.Integration, e.Factor = "trusted", "managed", "managed_certificate"
		if _, err := gw.st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	page := get(h, testAdmin, "GET", "/admin/endpoints").Body.String()
	for _, want := range []string{
		`id="managed-devices"`, `<td class="label">laptop-1</td><td>windows</td><td>alice</td><td><span class="code">serial 1</span>`,
		`<td class="last-seen">2026-05-01 09:30 UTC</td>`, `<td class="label">mac-2</td><td>macos</td><td>bob</td><td><span class="code">serial 2</span> </td><td class="last-seen">—</td>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the endpoints page lacks %q:\n%s", want, page)
		}
	}
}
