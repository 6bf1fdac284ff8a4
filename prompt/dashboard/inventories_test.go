package dashboard

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// storeGateway is a dashboard Gateway over a real SQLite store, as one
// instance without events; the methods no test here calls are nil.
type storeGateway struct {
	Gateway
	st *sqlitestore.Store
}

func (g *storeGateway) Store() adminapi.Store { return g.st }

func (g *storeGateway) Authorized() func(store.AuthLogEntry) bool { return nil }

func (g *storeGateway) CreateInventory(ctx context.Context, inv store.Inventory) error {
	return g.st.CreateInventory(ctx, inv)
}

func (g *storeGateway) AddInventoryEntries(ctx context.Context, id string, entries []store.InventoryEntry) error {
	return g.st.AddInventoryEntries(ctx, id, entries)
}

func (g *storeGateway) DeleteInventory(ctx context.Context, id string) error {
	return g.st.DeleteInventory(ctx, id)
}

func (g *storeGateway) Inventories(ctx context.Context) ([]store.Inventory, error) {
	return g.st.Inventories(ctx)
}

func (g *storeGateway) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]store.InventoryEntry, error) {
	return g.st.InventoryEntries(ctx, id, offset, limit)
}

func (g *storeGateway) ActivateInventory(ctx context.Context, id string) (store.Inventory, error) {
	return store.Inventory{ID: id}, g.st.ActivateInventory(ctx, id, time.Now())
}

func (g *storeGateway) RestorePreviousInventory(ctx context.Context) (store.Inventory, error) {
	return g.st.RestorePreviousInventory(ctx, time.Now())
}

// ActiveInventory indexes the store's active inventory, as an instance
// does when one is activated.
func (g *storeGateway) ActiveInventory() *inventory.Index {
	list, _ := g.st.Inventories(context.Background())
	for _, inv := range list {
		if inv.State == store.InventoryActive {
			entries, _ := g.st.InventoryEntries(context.Background(), inv.ID, 0, inv.Entries)
			return inventory.NewIndex(inv, entries)
		}
	}
	return nil
}

// newStoreDashboard returns a dashboard at /admin over a new SQLite store.
func newStoreDashboard(t *testing.T) (*Handler, *storeGateway) {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gw := &storeGateway{st: st}
	h, err := New(Config{
		AdminGroups: []string{"ops"},
		PathPrefix:  "/admin",
		SignedIn: func(r *http.Request) *Person {
			p, _ := r.Context().Value(personKey{}).(*Person)
			return p
		},
		Gateway: gw,
		Logger:  zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h, gw
}

var testAdmin = &Person{User: "alice", Groups: []string{"ops"}, CSRF: "csrf-token"}

// post sends a form to path as the admin's browser.
func post(h *Handler, path, contentType string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest("POST", path, bytes.NewReader(body))
	r.Header.Set("Accept", "text/html")
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("Origin", "http://example.com")
	r = r.WithContext(context.WithValue(r.Context(), personKey{}, testAdmin))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// uploadForm is the page's upload form: csrf, source and the file, in
// that order.
func uploadForm(t *testing.T, csrf, source, fileName, content string) (string, []byte) {
	t.Helper()
	var b bytes.Buffer
	m := multipart.NewWriter(&b)
	_ = m.WriteField("csrf", csrf)
	_ = m.WriteField("source", source)
	f, err := m.CreateFormFile("file", fileName)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte(content))
	_ = m.Close()
	return m.FormDataContentType(), b.Bytes()
}

// postAction posts a button's form (its CSRF token alone).
func postAction(h *Handler, path, csrf string) *httptest.ResponseRecorder {
	return post(h, path, "application/x-www-form-urlencoded", []byte(url.Values{"csrf": {csrf}}.Encode()))
}

func inventoriesOf(t *testing.T, gw *storeGateway) []store.Inventory {
	t.Helper()
	list, err := gw.st.Inventories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

const goodCSV = "serial,platform,owner,label\n01,windows,alice,laptop-1\n02,macos,bob,mac-2\n"

// TestDashboardUploadsActivatesAndRestoresInventories: an upload makes a
// pending inventory with its entries, which the page lists and whose
// Activate button makes it active; a second activated upload keeps the
// first as previous, which Restore brings back; Delete removes a pending
// one.
func TestDashboardUploadsActivatesAndRestoresInventories(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	upload := func(source, content string) store.Inventory {
		t.Helper()
		ct, body := uploadForm(t, testAdmin.CSRF, source, "export.csv", content)
		rec := post(h, "/admin/inventories", ct, body)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/admin/inventories?done=uploaded" {
			t.Fatalf("upload = %d %s\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		return inventoriesOf(t, gw)[0]
	}
	first := upload("first export", goodCSV)
	if first.State != store.InventoryPending || first.Entries != 2 || first.Source != "first export" {
		t.Fatalf("after upload: %+v", first)
	}
	page := get(h, testAdmin, "GET", "/admin/inventories?done=uploaded")
	for _, want := range []string{"first export", `id="inventory-` + first.ID, "/admin/inventories/" + first.ID + "/activate", "pending inventory"} {
		if !strings.Contains(page.Body.String(), want) {
			t.Errorf("the page lacks %q:\n%s", want, page.Body.String())
		}
	}
	if rec := postAction(h, "/admin/inventories/"+first.ID+"/activate", testAdmin.CSRF); rec.Code != http.StatusSeeOther {
		t.Fatalf("activate = %d\n%s", rec.Code, rec.Body.String())
	}
	second := upload("", "fingerprint,platform\n"+strings.Repeat("ab", 32)+",linux\n")
	if second.Source != "dashboard upload: export.csv" {
		t.Errorf("default source %q", second.Source)
	}
	postAction(h, "/admin/inventories/"+second.ID+"/activate", testAdmin.CSRF)
	states := func() map[string]string {
		m := map[string]string{}
		for _, inv := range inventoriesOf(t, gw) {
			m[inv.ID] = inv.State
		}
		return m
	}
	if s := states(); s[first.ID] != store.InventoryPrevious || s[second.ID] != store.InventoryActive {
		t.Fatalf("after the second activation: %v", s)
	}
	if !strings.Contains(get(h, testAdmin, "GET", "/admin/inventories").Body.String(), `id="restore-previous"`) {
		t.Error("no restore button beside the previous inventory")
	}
	if rec := postAction(h, "/admin/inventories/previous/restore", testAdmin.CSRF); rec.Code != http.StatusSeeOther {
		t.Fatalf("restore = %d\n%s", rec.Code, rec.Body.String())
	}
	if s := states(); s[first.ID] != store.InventoryActive || s[second.ID] != store.InventoryPrevious {
		t.Fatalf("after restore: %v", s)
	}
	third := upload("to delete", goodCSV)
	if rec := postAction(h, "/admin/inventories/"+first.ID+"/delete", testAdmin.CSRF); rec.Code != http.StatusConflict {
		t.Errorf("deleting the active inventory = %d", rec.Code)
	}
	if rec := postAction(h, "/admin/inventories/"+third.ID+"/delete", testAdmin.CSRF); rec.Code != http.StatusSeeOther {
		t.Fatalf("delete = %d\n%s", rec.Code, rec.Body.String())
	}
	if _, ok := states()[third.ID]; ok {
		t.Error("the deleted inventory is still listed")
	}
}

// TestDashboardUploadWithBadRowsChangesNothing: bad rows are listed with
// their lines and no inventory is left behind; so for an empty file and
// a file of an unknown kind.
func TestDashboardUploadWithBadRowsChangesNothing(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	for _, tt := range []struct {
		name, file, content string
		want                []string
	}{
		{"bad rows", "export.csv", "serial,platform\n01,windows\nzz,linux\n02,beos\n",
			[]string{"bad rows; nothing was added", `<td class="bad-line">3</td>`, "not a hex digit", `<td class="bad-line">4</td>`, "beos"}},
		{"bad JSON row", "export.json", `[{"serial":"01","platform":"windows"},{"serial":"02"}]`,
			[]string{"bad rows; nothing was added", "platform: missing"}},
		{"no entries", "export.csv", "serial,platform\n", []string{"no entries; nothing was added"}},
		{"unknown kind", "export.xlsx", goodCSV, []string{"must end in .csv"}},
	} {
		ct, body := uploadForm(t, testAdmin.CSRF, "x", tt.file, tt.content)
		rec := post(h, "/admin/inventories", ct, body)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d\n%s", tt.name, rec.Code, rec.Body.String())
		}
		for _, want := range tt.want {
			if !strings.Contains(rec.Body.String(), want) {
				t.Errorf("%s: the page lacks %q:\n%s", tt.name, want, rec.Body.String())
			}
		}
		if list := inventoriesOf(t, gw); len(list) != 0 {
			t.Errorf("%s: inventories left behind: %+v", tt.name, list)
		}
	}
}

// TestDashboardInventoryChangesNeedTheSessionsToken: an upload or a
// button without the session's CSRF token, or from another origin,
// changes nothing.
func TestDashboardInventoryChangesNeedTheSessionsToken(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	ct, body := uploadForm(t, "wrong", "x", "export.csv", goodCSV)
	if rec := post(h, "/admin/inventories", ct, body); rec.Code != http.StatusForbidden {
		t.Errorf("upload with a wrong token = %d", rec.Code)
	}
	ct, body = uploadForm(t, testAdmin.CSRF, "x", "export.csv", goodCSV)
	r := httptest.NewRequest("POST", "/admin/inventories", bytes.NewReader(body))
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Origin", "https://evil.example")
	r = r.WithContext(context.WithValue(r.Context(), personKey{}, testAdmin))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusForbidden {
		t.Errorf("upload from another origin = %d", rec.Code)
	}
	if list := inventoriesOf(t, gw); len(list) != 0 {
		t.Fatalf("a refused upload stored %+v", list)
	}
	ctx := context.Background()
	if err := gw.st.CreateInventory(ctx, store.Inventory{ID: "inv-1", State: store.InventoryPending, Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := gw.st.AddInventoryEntries(ctx, "inv-1", []store.InventoryEntry{{Serial: "1", Platform: "windows"}}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/admin/inventories/inv-1/activate", "/admin/inventories/inv-1/delete"} {
		if rec := postAction(h, path, "wrong"); rec.Code != http.StatusForbidden {
			t.Errorf("%s with a wrong token = %d", path, rec.Code)
		}
	}
	if list := inventoriesOf(t, gw); len(list) != 1 || list[0].State != store.InventoryPending {
		t.Errorf("a refused button changed %+v", list)
	}
}
