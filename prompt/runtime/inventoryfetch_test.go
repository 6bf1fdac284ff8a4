package runtime

import (
	"crypto/x509"
	"math/big"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

const (
	exportToken = "mdm-token-never-logged"
	goodExport  = "serial,platform,label\n01ab,windows,laptop-1\n02cd,macos,laptop-2\n"
	otherExport = "serial,platform,label\n03ef,linux,laptop-3\n"
)

// exportServer is a device-management system publishing its export over
// HTTPS, behind a bearer token, with an ETag.
type exportServer struct {
	mu          sync.Mutex
	body        string
	etag        string // "" sends none
	token       string
	requests    int
	notModified int
}

func (e *exportServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.requests++
	switch {
	case r.Header.Get("Authorization") != "Bearer "+e.token:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	case e.etag != "" && r.Header.Get("If-None-Match") == e.etag:
		e.notModified++
		w.WriteHeader(http.StatusNotModified)
	default:
		if e.etag != "" {
			w.Header().Set("ETag", e.etag)
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		_, _ = w.Write([]byte(e.body))
	}
}

func (e *exportServer) set(body, etag, token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.body, e.etag, e.token = body, etag, token
}

func (e *exportServer) counts() (requests, notModified int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests, e.notModified
}

// fetchResults records what a fetcher reports.
type fetchResults struct {
	mu      sync.Mutex
	results []string
}

func (r *fetchResults) InventoryFetched(result string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, result)
}

func (r *fetchResults) count(result string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, got := range r.results {
		if got == result {
			n++
		}
	}
	return n
}

// fetchSetup is a Shared on SQLite logging to logs, an export server over
// TLS, and the fetch configuration that trusts the server's CA.
type fetchSetup struct {
	shared  *Shared
	close   func() error // closes shared once
	server  *exportServer
	cfg     InventoryFetch
	logs    *observer.ObservedLogs
	results *fetchResults
}

func newFetchSetup(t *testing.T) fetchSetup {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	s, err := Start(t.Context(), st, Options{TrustCacheSize: 100, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	closeShared := sync.OnceValue(s.Close)
	t.Cleanup(func() { _ = closeShared() })
	server := &exportServer{body: goodExport, etag: `"v1"`, token: exportToken}
	srv := httptest.NewTLSServer(server)
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	results := new(fetchResults)
	cfg := InventoryFetch{
		URL:         srv.URL + "/export.csv?key=query-secret",
		Every:       time.Hour,
		BearerToken: exportToken,
		RootCAs:     roots,
		Observer:    results,
	}
	return fetchSetup{shared: s, close: closeShared, server: server, cfg: cfg, logs: logs, results: results}
}

func (fs fetchSetup) fetcher(t *testing.T) *inventoryFetcher {
	t.Helper()
	f, err := newInventoryFetcher(fs.shared, fs.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.client.CloseIdleConnections)
	return f
}

// managed reports whether the active inventory lists the certificate
// serial.
func managed(s *Shared, serial int64) bool {
	_, ok := s.Inventory().Index().Lookup(&x509.Certificate{SerialNumber: big.NewInt(serial)}, policy.MatchSerial)
	return ok
}

func inventories(t *testing.T, s *Shared) []store.Inventory {
	t.Helper()
	list, err := s.Store().Inventories(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestInventoryFetchImportsAndActivatesTheExport(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	result, err := fs.fetcher(t).fetch(t.Context())
	if err != nil || result != InventoryFetchOK {
		t.Fatalf("fetch = %q, %v; want ok", result, err)
	}
	if !managed(fs.shared, 0x1ab) || !managed(fs.shared, 0x2cd) {
		t.Error("the fetched devices are not in the active inventory")
	}
	held := fs.shared.Inventory().Index().Inventory()
	if held.State != store.InventoryActive || held.Entries != 2 {
		t.Errorf("active inventory %+v, want 2 entries, active", held)
	}
	if want := strings.TrimSuffix(fs.cfg.URL, "?key=query-secret"); held.Source != want {
		t.Errorf("source %q, want %q (no query string)", held.Source, want)
	}
}

func TestInventoryFetchDoesNotReimportAnUnchangedExport(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	f := fs.fetcher(t)
	if result, err := f.fetch(t.Context()); err != nil || result != InventoryFetchOK {
		t.Fatalf("first fetch = %q, %v; want ok", result, err)
	}
	first := fs.shared.Inventory().Index().Inventory()

	// The same instance asks conditionally; the server answers 304.
	if result, err := f.fetch(t.Context()); err != nil || result != InventoryFetchUnchanged {
		t.Fatalf("second fetch = %q, %v; want unchanged", result, err)
	}
	if _, notModified := fs.server.counts(); notModified != 1 {
		t.Errorf("the server answered 304 %d times, want 1", notModified)
	}
	// Another instance (no validators) gets the same export again: its
	// digest is the one last imported from this source.
	fs.server.set(goodExport, "", exportToken)
	if result, err := fs.fetcher(t).fetch(t.Context()); err != nil || result != InventoryFetchUnchanged {
		t.Fatalf("fetch without validators = %q, %v; want unchanged", result, err)
	}
	if list := inventories(t, fs.shared); len(list) != 1 || list[0].ID != first.ID {
		t.Errorf("inventories %+v, want only %s", list, first.ID)
	}

	// A changed export is imported.
	fs.server.set(otherExport, `"v2"`, exportToken)
	if result, err := f.fetch(t.Context()); err != nil || result != InventoryFetchOK {
		t.Fatalf("fetch of a changed export = %q, %v; want ok", result, err)
	}
	if managed(fs.shared, 0x1ab) || !managed(fs.shared, 0x3ef) {
		t.Error("the changed export is not the active inventory")
	}
}

func TestInventoryFetchWithAWrongTokenKeepsTheActiveInventory(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	f := fs.fetcher(t)
	f.fetchInSlot(t.Context(), 1)
	active := fs.shared.Inventory().Index().Inventory()

	fs.server.set(otherExport, `"v2"`, "the-token-was-rotated")
	f.fetchInSlot(t.Context(), 2)
	if n := fs.results.count(InventoryFetchFailed); n != 1 {
		t.Errorf("%d failed fetches reported, want 1 (results %v)", n, fs.results.results)
	}
	if held := fs.shared.Inventory().Index().Inventory(); held.ID != active.ID || !managed(fs.shared, 0x1ab) {
		t.Errorf("active inventory %s after a refused fetch, want %s kept", held.ID, active.ID)
	}
	if list := inventories(t, fs.shared); len(list) != 1 {
		t.Errorf("inventories %+v after a refused fetch, want the active one only", list)
	}
	failures := fs.logs.FilterMessage("fetching the inventory of managed devices; keeping the active one").All()
	if len(failures) != 1 || !strings.Contains(failures[0].ContextMap()["error"].(string), "401") {
		t.Errorf("failure logs %+v, want one naming the 401", failures)
	}
	for _, entry := range fs.logs.All() {
		for key, value := range entry.ContextMap() {
			if text, _ := value.(string); strings.Contains(text, exportToken) || strings.Contains(text, "query-secret") {
				t.Errorf("log %q field %s shows a secret: %q", entry.Message, key, text)
			}
		}
	}
}

func TestInventoryFetchOfBadRowsChangesNothing(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	f := fs.fetcher(t)
	f.fetchInSlot(t.Context(), 1)
	active := fs.shared.Inventory().Index().Inventory()

	fs.server.set(otherExport+"04ab,amiga,bad\nnot-hex,linux,bad\n", `"v2"`, exportToken)
	result, err := f.fetch(t.Context())
	if result != InventoryFetchFailed || err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("fetch of bad rows = %q, %v; want failed, naming line 3", result, err)
	}
	if held := fs.shared.Inventory().Index().Inventory(); held.ID != active.ID || managed(fs.shared, 0x3ef) {
		t.Errorf("active inventory %s after bad rows, want %s kept whole", held.ID, active.ID)
	}
	if list := inventories(t, fs.shared); len(list) != 1 {
		t.Errorf("inventories %+v after bad rows, want the active one only", list)
	}
	// An empty export is refused too: almost surely a broken export.
	fs.server.set("serial,platform\n", `"v3"`, exportToken)
	if result, err := f.fetch(t.Context()); result != InventoryFetchFailed || err == nil {
		t.Errorf("fetch of an empty export = %q, %v; want failed", result, err)
	}
}

func TestInventoryFetchIsMadeOncePerSlot(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	// Two fetchers stand for two instances sharing the store.
	fs.fetcher(t).fetchInSlot(t.Context(), 7)
	fs.fetcher(t).fetchInSlot(t.Context(), 7)
	if requests, _ := fs.server.counts(); requests != 1 {
		t.Errorf("%d requests for one slot, want 1", requests)
	}
	fs.fetcher(t).fetchInSlot(t.Context(), 8)
	if requests, _ := fs.server.counts(); requests != 2 {
		t.Errorf("%d requests for two slots, want 2", requests)
	}
}

func TestInventoryFetchRefusesWhatIsNotHTTPSOrNotTrusted(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	for _, u := range []string{"http://127.0.0.1/export.csv", "ftp://mdm.test/x", "https:///nohost", "::"} {
		cfg := fs.cfg
		cfg.URL = u
		if err := fs.shared.FetchInventory(cfg); err == nil {
			t.Errorf("FetchInventory(%q) accepted", u)
		}
	}
	// The system's CAs do not know the test server's.
	cfg := fs.cfg
	cfg.RootCAs = nil
	untrusting, err := newInventoryFetcher(fs.shared, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if result, err := untrusting.fetch(t.Context()); result != InventoryFetchFailed || err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("fetch from an untrusted server = %q, %v; want failed on its certificate", result, err)
	}
	// A redirect to plain HTTP is not followed.
	redirect := httptest.NewTLSServer(http.RedirectHandler("http://127.0.0.1:1/export.csv", http.StatusFound))
	t.Cleanup(redirect.Close)
	cfg = fs.cfg
	cfg.URL = redirect.URL
	cfg.RootCAs.AddCert(redirect.Certificate())
	redirected, err := newInventoryFetcher(fs.shared, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if result, err := redirected.fetch(t.Context()); result != InventoryFetchFailed || err == nil || !strings.Contains(err.Error(), "not https") {
		t.Errorf("fetch redirected to http = %q, %v; want failed", result, err)
	}
}

func TestFetchInventoryFetchesAtOnceAndStopsOnClose(t *testing.T) {
	t.Parallel()
	fs := newFetchSetup(t)
	if err := fs.shared.FetchInventory(fs.cfg); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !managed(fs.shared, 0x1ab) {
		if time.Now().After(deadline) {
			t.Fatalf("the export was not imported; logs: %v", fs.logs.All())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := fs.results.count(InventoryFetchOK); n != 1 {
		t.Errorf("%d ok fetches reported, want 1", n)
	}
	// A reload with the same URL finds the slot claimed: no new request.
	if err := fs.shared.FetchInventory(fs.cfg); err != nil {
		t.Fatal(err)
	}
	if err := fs.shared.FetchInventory(InventoryFetch{}); err != nil {
		t.Fatal(err)
	}
	if requests, _ := fs.server.counts(); requests != 1 {
		t.Errorf("%d requests, want 1", requests)
	}
	if err := fs.shared.FetchInventory(fs.cfg); err != nil {
		t.Fatal(err)
	}
	if err := fs.close(); err != nil {
		t.Fatal(err)
	}
	if fs.shared.fetching.cancel != nil {
		t.Error("fetching still runs after Close")
	}
}
