package adminapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// inventoryGateway keeps inventories in a real SQLite store; activating
// and restoring change only the store, as one instance without events.
type inventoryGateway struct {
	Gateway
	st           *sqlitestore.Store
	notAnnounced bool
}

func (g *inventoryGateway) CreateInventory(ctx context.Context, inv store.Inventory) error {
	return g.st.CreateInventory(ctx, inv)
}

func (g *inventoryGateway) AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error {
	return g.st.AddInventoryEntries(ctx, id, entries)
}

func (g *inventoryGateway) DeleteInventory(ctx context.Context, id string) error {
	return g.st.DeleteInventory(ctx, id)
}

func (g *inventoryGateway) Inventories(ctx context.Context) ([]store.Inventory, error) {
	return g.st.Inventories(ctx)
}

func (g *inventoryGateway) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	return g.st.InventoryEntries(ctx, id, offset, limit)
}

func (g *inventoryGateway) ActivateInventory(ctx context.Context, id string) (store.Inventory, error) {
	if err := g.st.ActivateInventory(ctx, id, time.Now()); err != nil {
		return store.Inventory{}, err
	}
	return g.announce(store.Inventory{ID: id, State: store.InventoryActive})
}

func (g *inventoryGateway) RestorePreviousInventory(ctx context.Context) (store.Inventory, error) {
	inv, err := g.st.RestorePreviousInventory(ctx, time.Now())
	if err != nil {
		return store.Inventory{}, err
	}
	return g.announce(inv)
}

func (g *inventoryGateway) announce(inv store.Inventory) (store.Inventory, error) {
	if g.notAnnounced {
		return inv, fmt.Errorf("%w: channel closed", ErrNotAnnounced)
	}
	return inv, nil
}

// newInventoryAPI returns an admin API over a new SQLite store.
func newInventoryAPI(t *testing.T) (*Handler, *inventoryGateway) {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gw := &inventoryGateway{st: st}
	return New(func() (Gateway, error) { return gw, nil }, zap.NewNop()), gw
}

// call sends a request to h and returns the status and the JSON answer
// decoded into out (when not nil).
func call(t *testing.T, h *Handler, method, path, contentType, body string, out any) int {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %d, answer is not JSON: %s", method, path, rec.Code, rec.Body)
		}
	}
	return rec.Code
}

// createInventory creates a pending inventory and returns its ID.
func createInventory(t *testing.T, h *Handler) string {
	t.Helper()
	var inv store.Inventory
	if status := call(t, h, "POST", "/trusted-endpoints/inventories", "application/json", `{"source":"mdm export"}`, &inv); status != http.StatusCreated {
		t.Fatalf("create: %d %+v", status, inv)
	}
	if inv.ID == "" || inv.State != store.InventoryPending || inv.Source != "mdm export" {
		t.Fatalf("created %+v, want a pending inventory with an ID and the source", inv)
	}
	return inv.ID
}

// showInventory returns inventory id as the admin API shows it.
func showInventory(t *testing.T, h *Handler, id string) store.Inventory {
	t.Helper()
	var inv store.Inventory
	if status := call(t, h, "GET", "/trusted-endpoints/inventories/"+id, "", "", &inv); status != http.StatusOK {
		t.Fatalf("show %s: %d", id, status)
	}
	return inv
}

const (
	fingerprintA = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11"
	fingerprintB = "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22"
)

func TestInventoryUploadWithBadRowsAddsNothingAndNamesEachLine(t *testing.T) {
	h, _ := newInventoryAPI(t)
	id := createInventory(t, h)
	upload := "fingerprint,platform,owner\n" +
		fingerprintA + ",windows,alice\n" +
		"not-hex,macos,bob\n" +
		fingerprintA + ",linux,carol\n"
	var bad struct {
		Error string
		Rows  []struct {
			Line  int
			Error string
		}
		Total int
	}
	status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", upload, &bad)
	if status != http.StatusBadRequest || bad.Total != 2 || len(bad.Rows) != 2 || !strings.Contains(bad.Error, "nothing was added") {
		t.Fatalf("upload with bad rows: %d %+v, want 400 listing 2 rows", status, bad)
	}
	if bad.Rows[0].Line != 3 || !strings.Contains(bad.Rows[0].Error, "fingerprint") ||
		bad.Rows[1].Line != 4 || !strings.Contains(bad.Rows[1].Error, "also on line 2") {
		t.Errorf("rows %+v, want line 3 (its fingerprint) and line 4 (a duplicate of line 2)", bad.Rows)
	}
	if inv := showInventory(t, h, id); inv.Entries != 0 {
		t.Fatalf("the inventory holds %d entries after a refused upload, want none", inv.Entries)
	}

	good := "fingerprint,platform,owner\n" + fingerprintA + ",windows,alice\n" + fingerprintB + ",macos,bob\n"
	var done struct {
		ID      string
		Entries int
	}
	if status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv; charset=utf-8", good, &done); status != http.StatusOK || done.Entries != 2 {
		t.Fatalf("good upload: %d %+v", status, done)
	}
	if inv := showInventory(t, h, id); inv.Entries != 2 {
		t.Errorf("the inventory holds %d entries, want 2", inv.Entries)
	}
	// A second upload would escape the duplicate check of one upload.
	var refused struct{ Error string }
	if status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", good, &refused); status != http.StatusConflict || !strings.Contains(refused.Error, "already holds 2 entries") {
		t.Errorf("second upload: %d %q, want 409", status, refused.Error)
	}
}

func TestInventoryUploadFormatComesFromContentTypeOrQuery(t *testing.T) {
	h, _ := newInventoryAPI(t)
	lines := `{"fingerprint":"` + fingerprintA + `","platform":"windows"}` + "\n" + `{"serial":"0A:1B","platform":"linux","label":"build-7"}` + "\n"
	for _, tt := range []struct {
		name, query, contentType, body string
		status                         int
		mention                        string
	}{
		{"json lines by type", "", "application/x-ndjson", lines, http.StatusOK, ""},
		{"json array by type", "", "application/json", "[" + strings.ReplaceAll(strings.TrimSpace(lines), "\n", ",") + "]", http.StatusOK, ""},
		{"query wins over type", "?format=json", "text/plain", lines, http.StatusOK, ""},
		{"csv by query", "?format=csv", "", "serial,platform\n0a,windows\n", http.StatusOK, ""},
		{"no type", "", "", lines, http.StatusUnsupportedMediaType, "Content-Type"},
		{"unknown type", "", "application/xml", lines, http.StatusUnsupportedMediaType, "text/csv"},
		{"unknown format", "?format=xlsx", "", lines, http.StatusBadRequest, "format: want csv or json"},
		{"unknown parameter", "?fmt=csv", "text/csv", lines, http.StatusBadRequest, "fmt: unknown parameter"},
		{"header only", "", "text/csv", "serial,platform\n", http.StatusBadRequest, "no entries"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			id := createInventory(t, h)
			var out struct{ Error string }
			status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries"+tt.query, tt.contentType, tt.body, &out)
			if status != tt.status || !strings.Contains(out.Error, tt.mention) {
				t.Errorf("%d %q, want %d mentioning %q", status, out.Error, tt.status, tt.mention)
			}
			if tt.status != http.StatusOK {
				if inv := showInventory(t, h, id); inv.Entries != 0 {
					t.Errorf("a refused upload added %d entries", inv.Entries)
				}
			}
		})
	}
}

func TestInventoryUploadOverTheLimitIs413AndAddsNothing(t *testing.T) {
	h, _ := newInventoryAPI(t)
	h.Uploads.MaxBytes = 200
	id := createInventory(t, h)
	var b strings.Builder
	b.WriteString("serial,platform\n")
	for i := range 50 {
		fmt.Fprintf(&b, "%x,windows\n", i+1)
	}
	var out struct{ Error string }
	if status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", b.String(), &out); status != http.StatusRequestEntityTooLarge || !strings.Contains(out.Error, "nothing was added") {
		t.Errorf("%d %q, want 413", status, out.Error)
	}
	if inv := showInventory(t, h, id); inv.Entries != 0 {
		t.Errorf("a refused upload added %d entries", inv.Entries)
	}
}

// upload fills the pending inventory id with one entry per serial.
func upload(t *testing.T, h *Handler, id string, serials ...string) {
	t.Helper()
	body := "serial,platform\n" + strings.Join(serials, ",windows\n") + ",windows\n"
	var out struct{ Error string }
	if status := call(t, h, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", body, &out); status != http.StatusOK {
		t.Fatalf("upload to %s: %d %s", id, status, out.Error)
	}
}

func TestInventoryActivateRestoreAndDeleteKeepOneStepBack(t *testing.T) {
	h, gw := newInventoryAPI(t)
	first, second := createInventory(t, h), createInventory(t, h)
	upload(t, h, first, "a1", "a2", "a3")
	upload(t, h, second, "b1")

	var active store.Inventory
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/"+first+"/activate", "", "", &active); status != http.StatusOK || active.ID != first {
		t.Fatalf("activate first: %d %+v", status, active)
	}
	var list inventoriesList
	call(t, h, "GET", "/trusted-endpoints/inventories", "", "", &list)
	states := map[string]store.Inventory{}
	for _, inv := range list.Inventories {
		states[inv.ID] = inv
	}
	if states[first].State != store.InventoryActive || states[first].Entries != 3 || states[second].State != store.InventoryPending {
		t.Errorf("list %+v, want first active with 3 entries, second pending", list.Inventories)
	}

	gw.notAnnounced = true // stored but not announced still answers 200
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/"+second+"/activate", "", "", &active); status != http.StatusOK || active.ID != second {
		t.Fatalf("activate second: %d %+v", status, active)
	}
	gw.notAnnounced = false
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/previous/restore", "", "", &active); status != http.StatusOK || active.ID != first {
		t.Fatalf("restore: %d %+v, want first active again", status, active)
	}
	if inv := showInventory(t, h, second); inv.State != store.InventoryPrevious {
		t.Errorf("after the restore second is %s, want previous", inv.State)
	}

	for _, tt := range []struct {
		method, path string
		status       int
		mention      string
	}{
		{"POST", "/trusted-endpoints/inventories/" + first + "/activate", http.StatusConflict, "not pending"},
		{"POST", "/trusted-endpoints/inventories/unknown/activate", http.StatusNotFound, `no inventory \"unknown\"`},
		{"DELETE", "/trusted-endpoints/inventories/" + first, http.StatusConflict, "not pending"},
		{"DELETE", "/trusted-endpoints/inventories/" + second, http.StatusConflict, "not pending"},
		{"PUT", "/trusted-endpoints/inventories/" + second + "/entries", http.StatusConflict, "not pending"},
		{"GET", "/trusted-endpoints/inventories/unknown/entries", http.StatusNotFound, "no inventory"},
		{"GET", "/trusted-endpoints/inventories/" + first + "/entries?offset=-1", http.StatusBadRequest, "offset: want a whole number"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("serial,platform\nff,linux\n"))
		req.Header.Set("Content-Type", "text/csv")
		h.ServeHTTP(rec, req)
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.mention) {
			t.Errorf("%s %s: %d %s, want %d mentioning %s", tt.method, tt.path, rec.Code, rec.Body, tt.status, tt.mention)
		}
	}

	empty := createInventory(t, h)
	var out struct{ Error string }
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/"+empty+"/activate", "", "", &out); status != http.StatusConflict || !strings.Contains(out.Error, "holds no entries") {
		t.Errorf("activating an empty inventory: %d %q, want 409", status, out.Error)
	}
	if status := call(t, h, "DELETE", "/trusted-endpoints/inventories/"+empty, "", "", nil); status != http.StatusOK {
		t.Errorf("deleting a pending inventory: %d", status)
	}
	if status := call(t, h, "GET", "/trusted-endpoints/inventories/"+empty, "", "", nil); status != http.StatusNotFound {
		t.Errorf("a deleted inventory is still shown: %d", status)
	}
}

func TestInventoryEntriesArePaged(t *testing.T) {
	h, _ := newInventoryAPI(t)
	id := createInventory(t, h)
	upload(t, h, id, "a1", "a2", "a3")
	var page inventoryPage
	call(t, h, "GET", "/trusted-endpoints/inventories/"+id+"/entries?limit=2", "", "", &page)
	if len(page.Entries) != 2 || page.Entries[0].Serial != "a1" || page.NextOffset != 2 {
		t.Fatalf("first page %+v, want a1, a2 and next offset 2", page)
	}
	page = inventoryPage{}
	call(t, h, "GET", "/trusted-endpoints/inventories/"+id+"/entries?limit=2&offset=2", "", "", &page)
	if len(page.Entries) != 1 || page.Entries[0].Serial != "a3" || page.NextOffset != 0 {
		t.Errorf("last page %+v, want a3 alone and no next offset", page)
	}
}

func TestRestoreWithoutPreviousInventoryIs404(t *testing.T) {
	h, _ := newInventoryAPI(t)
	var out struct{ Error string }
	if status := call(t, h, "POST", "/trusted-endpoints/inventories/previous/restore", "", "", &out); status != http.StatusNotFound || out.Error != "no previous inventory to restore" {
		t.Errorf("%d %q, want 404", status, out.Error)
	}
}
