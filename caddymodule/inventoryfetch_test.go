package caddymodule

import (
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// TestGlobalOptionTakesOneInventoryURL: the global option takes one
// inventory_url; what its line and block say is read by
// internal/inventoryfetch.
func TestGlobalOptionTakesOneInventoryURL(t *testing.T) {
	input := "trusted_endpoints {\n inventory_url https://a.example.com/x.csv every 1h\n inventory_url https://b.example.com/x.csv every 1h\n}"
	_, err := parseGlobalOption(caddyfile.NewTestDispenser(input), nil)
	if err == nil || !strings.Contains(err.Error(), "inventory_url already specified") || !strings.Contains(err.Error(), "Testfile:3") {
		t.Errorf("error %v, want inventory_url already specified at Testfile:3", err)
	}
}

// TestInventoryURLFetchesTheExportThroughCaddy: a real Caddy with the
// global option fetches a test CA's HTTPS export with the token from the
// environment, and the metrics show the fetch and the entries.
func TestInventoryURLFetchesTheExportThroughCaddy(t *testing.T) {
	const token = "caddy-test-mdm-token"
	var authorized atomic.Int32
	export := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		authorized.Add(1)
		w.Header().Set("Content-Type", "text/csv")
		fmt.Fprint(w, "serial,platform\n0a1b,windows\n0c2d,linux\n")
	}))
	t.Cleanup(export.Close)
	caFile := filepath.Join(t.TempDir(), "mdm-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: export.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TG_TEST_MDM_TOKEN", token)
	// Counts of an earlier gateway in this process, if one runs.
	before := map[string]float64{}
	if resp, err := http.Get(adminURL + "/metrics"); err == nil {
		resp.Body.Close()
		before = scrape(t)
	}
	startGateway(t, globalOptions(storePath(t), fmt.Sprintf("inventory_url %s/export every 1h {\n bearer_token {env.TG_TEST_MDM_TOKEN}\n ca_file %s\n }", export.URL, caFile))+
		fmt.Sprintf("http://localhost:%d {\n trusted_endpoints {\n  login users_file %s\n }\n respond ok\n}\n", httpPort, gatetest.WriteUsersFile(t)))

	deadline := time.Now().Add(10 * time.Second)
	for {
		now := scrape(t)
		if now["caddy_trusted_endpoints_inventory_entries{}"] == 2 {
			checkSeries(t, "after the fetch", before, now, map[string]float64{
				`caddy_trusted_endpoints_inventory_fetches_total{result=ok}`: 1,
			})
			if now["caddy_trusted_endpoints_inventory_fetch_last_success_timestamp_seconds{}"] <= 0 {
				t.Error("no time of the last successful fetch")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export was not fetched: metrics %v", now)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := authorized.Load(); n != 1 {
		t.Errorf("%d authorized requests, want 1", n)
	}
}
