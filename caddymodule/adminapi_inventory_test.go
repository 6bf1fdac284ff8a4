package caddymodule

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

// adminDo sends method path with body, of contentType, to the admin
// endpoint and decodes the JSON answer into out.
func adminDo(t *testing.T, method, path, contentType, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, adminURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("%s %s: %d, answer is not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode
}

// adminInventory creates a pending inventory through the admin endpoint
// and returns its ID.
func adminInventory(t *testing.T) string {
	t.Helper()
	var inv store.Inventory
	if status := adminDo(t, "POST", "/trusted-endpoints/inventories", "application/json", `{"source":"test export"}`, &inv); status != http.StatusCreated || inv.ID == "" {
		t.Fatalf("create: %d %+v", status, inv)
	}
	return inv.ID
}

// adminInventories lists the inventories through the admin endpoint, by
// ID.
func adminInventories(t *testing.T) map[string]store.Inventory {
	t.Helper()
	var list struct{ Inventories []store.Inventory }
	adminGetJSON(t, "/trusted-endpoints/inventories", &list)
	byID := map[string]store.Inventory{}
	for _, inv := range list.Inventories {
		byID[inv.ID] = inv
	}
	return byID
}

const inventoryCSV = "fingerprint,serial,san_uri,hardware_serial,platform,owner,label\n" +
	"aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11,,,,windows,alice,desk-1\n" +
	",0A:1B:2C,,,macos,bob,laptop-2\n" +
	",,urn:device:7f3c,,linux,,build-3\n"

func TestAdminInventoryUploadActivateAndRestoreThroughCaddy(t *testing.T) {
	app := runningState(t, usersGateway(t, newUpstream(t), ""))
	first := adminInventory(t)

	badCSV := strings.Replace(inventoryCSV, "macos", "beos", 1)
	var bad struct {
		Error string
		Rows  []struct {
			Line  int
			Error string
		}
		Total int
	}
	status := adminDo(t, "PUT", "/trusted-endpoints/inventories/"+first+"/entries", "text/csv", badCSV, &bad)
	if status != http.StatusBadRequest || bad.Total != 1 || len(bad.Rows) != 1 || bad.Rows[0].Line != 3 || !strings.Contains(bad.Rows[0].Error, "platform") {
		t.Fatalf("upload with a bad platform on line 3: %d %+v, want a 400 naming line 3", status, bad)
	}
	if inv := adminInventories(t)[first]; inv.Entries != 0 || inv.State != store.InventoryPending {
		t.Fatalf("after the refused upload: %+v, want pending and empty", inv)
	}

	var uploaded struct{ Entries int }
	if status := adminDo(t, "PUT", "/trusted-endpoints/inventories/"+first+"/entries", "text/csv", inventoryCSV, &uploaded); status != http.StatusOK || uploaded.Entries != 3 {
		t.Fatalf("good upload: %d %+v", status, uploaded)
	}
	var active store.Inventory
	if status := adminDo(t, "POST", "/trusted-endpoints/inventories/"+first+"/activate", "", "", &active); status != http.StatusOK || active.ID != first {
		t.Fatalf("activate: %d %+v", status, active)
	}
	if inv := adminInventories(t)[first]; inv.State != store.InventoryActive || inv.Entries != 3 {
		t.Fatalf("listed %+v, want active with 3 entries", inv)
	}
	if held := app.Inventory().Index(); held.Inventory().ID != first || held.Len() != 3 {
		t.Fatalf("the running app holds %q with %d entries, want the first inventory at once", held.Inventory().ID, held.Len())
	}

	second := adminInventory(t)
	ndjson := `{"serial":"ff01","platform":"windows","label":"new-1"}` + "\n"
	if status := adminDo(t, "PUT", "/trusted-endpoints/inventories/"+second+"/entries", "application/x-ndjson", ndjson, &uploaded); status != http.StatusOK || uploaded.Entries != 1 {
		t.Fatalf("second upload: %d %+v", status, uploaded)
	}
	if status := adminDo(t, "POST", "/trusted-endpoints/inventories/"+second+"/activate", "", "", &active); status != http.StatusOK || active.ID != second {
		t.Fatalf("activate second: %d %+v", status, active)
	}
	if held := app.Inventory().Index().Inventory().ID; held != second {
		t.Fatalf("the running app holds %q, want the second inventory", held)
	}
	if status := adminDo(t, "POST", "/trusted-endpoints/inventories/previous/restore", "", "", &active); status != http.StatusOK || active.ID != first {
		t.Fatalf("restore: %d %+v, want the first", status, active)
	}
	listed := adminInventories(t)
	if listed[first].State != store.InventoryActive || listed[second].State != store.InventoryPrevious {
		t.Errorf("after the restore: first %s, second %s; want active and previous", listed[first].State, listed[second].State)
	}
	if held := app.Inventory().Index(); held.Inventory().ID != first || held.Len() != 3 {
		t.Errorf("after the restore the running app holds %q with %d entries, want the first", held.Inventory().ID, held.Len())
	}
}
