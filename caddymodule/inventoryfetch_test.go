package caddymodule

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/inventory"
)

func TestGlobalOptionParsesInventoryURL(t *testing.T) {
	good := []struct {
		input string
		want  InventoryFetchConfig
	}{
		{"trusted_endpoints {\n inventory_url https://mdm.example.com/export.csv every 1h\n}",
			InventoryFetchConfig{URL: "https://mdm.example.com/export.csv", Interval: caddy.Duration(time.Hour)}},
		{"trusted_endpoints {\n inventory_url {env.MDM_URL} every 15m {\n  bearer_token {env.MDM_TOKEN}\n  format json\n  ca_file /etc/trustgate/mdm-ca.pem\n  timeout 30s\n  max_size 64MiB\n }\n}",
			InventoryFetchConfig{URL: "{env.MDM_URL}", Interval: caddy.Duration(15 * time.Minute), BearerToken: "{env.MDM_TOKEN}",
				Format: "json", CAFile: "/etc/trustgate/mdm-ca.pem", Timeout: caddy.Duration(30 * time.Second), MaxSize: 64 << 20}},
	}
	for _, tt := range good {
		v, err := parseGlobalOption(caddyfile.NewTestDispenser(tt.input), nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.input, err)
		}
		var app App
		if err := json.Unmarshal(v.(httpcaddyfile.App).Value, &app); err != nil {
			t.Fatal(err)
		}
		if app.InventoryFetch == nil || *app.InventoryFetch != tt.want {
			t.Errorf("%s:\nparsed %+v, want %+v", tt.input, app.InventoryFetch, tt.want)
		}
	}

	bad := map[string]struct{ input, message string }{
		"http":           {"trusted_endpoints {\n inventory_url http://mdm.example.com/export.csv every 1h\n}", "inventory_url must be an https URL"},
		"no host":        {"trusted_endpoints {\n inventory_url https:///export.csv every 1h\n}", "inventory_url must be an https URL"},
		"missing every":  {"trusted_endpoints {\n inventory_url https://mdm.example.com/export.csv 1h\n}", "want inventory_url <https url> every <duration>"},
		"other word":     {"trusted_endpoints {\n inventory_url https://mdm.example.com/export.csv each 1h\n}", "want inventory_url <https url> every <duration>"},
		"short interval": {"trusted_endpoints {\n inventory_url https://mdm.example.com/export.csv every 30s\n}", `interval must be a duration of at least 1m0s, got "30s"`},
		"bad interval":   {"trusted_endpoints {\n inventory_url https://mdm.example.com/export.csv every often\n}", `got "often"`},
		"twice":          {"trusted_endpoints {\n inventory_url https://a.example.com/x.csv every 1h\n inventory_url https://b.example.com/x.csv every 1h\n}", "inventory_url already specified"},
		"bad format":     {"trusted_endpoints {\n inventory_url https://mdm.example.com/x every 1h {\n  format xml\n }\n}", `format must be csv or json, got "xml"`},
		"bad size":       {"trusted_endpoints {\n inventory_url https://mdm.example.com/x every 1h {\n  max_size lots\n }\n}", `want a positive size such as 64MiB, got "lots"`},
		"unknown option": {"trusted_endpoints {\n inventory_url https://mdm.example.com/x every 1h {\n  password x\n }\n}", `unknown inventory_url option "password"`},
		"no token value": {"trusted_endpoints {\n inventory_url https://mdm.example.com/x every 1h {\n  bearer_token\n }\n}", "wrong argument count"},
	}
	fileLine := regexp.MustCompile(`Testfile:\d+`)
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := parseGlobalOption(caddyfile.NewTestDispenser(tt.input), nil)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.input)
			}
			if !strings.Contains(err.Error(), tt.message) || !fileLine.MatchString(err.Error()) {
				t.Errorf("error %q does not say %q with the file and line", err, tt.message)
			}
		})
	}
}

func TestInventoryFetchConfigResolvesPlaceholdersAndChecksWhatTheyGive(t *testing.T) {
	t.Setenv("TG_TEST_MDM_URL", "https://mdm.example.com/export")
	t.Setenv("TG_TEST_MDM_TOKEN", "s3cret")
	t.Setenv("TG_TEST_EMPTY", "")
	hour := caddy.Duration(time.Hour)
	fetch, err := (&InventoryFetchConfig{URL: "{env.TG_TEST_MDM_URL}", Interval: hour, BearerToken: "{env.TG_TEST_MDM_TOKEN}", Format: "csv"}).runtimeConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if fetch.URL != "https://mdm.example.com/export" || fetch.BearerToken != "s3cret" || fetch.Format != inventory.FormatCSV || fetch.Every != time.Hour {
		t.Errorf("resolved %+v", fetch)
	}
	caFile := filepath.Join(t.TempDir(), "not-a-ca.pem")
	if err := os.WriteFile(caFile, []byte("nothing here"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := map[string]struct {
		config  InventoryFetchConfig
		message string
	}{
		"url placeholder gives http": {InventoryFetchConfig{URL: "http://{env.TG_TEST_EMPTY}mdm.example.com/x", Interval: hour}, "want an https URL"},
		"empty token":                {InventoryFetchConfig{URL: "https://mdm.example.com/x", Interval: hour, BearerToken: "{env.TG_TEST_EMPTY}"}, "bearer token is empty"},
		"short interval in JSON":     {InventoryFetchConfig{URL: "https://mdm.example.com/x", Interval: caddy.Duration(time.Second)}, "at least 1m0s"},
		"ca file holds no CA":        {InventoryFetchConfig{URL: "https://mdm.example.com/x", Interval: hour, CAFile: caFile}, "holds no PEM certificate"},
		"ca file missing":            {InventoryFetchConfig{URL: "https://mdm.example.com/x", Interval: hour, CAFile: caFile + ".gone"}, "reading ca_file"},
	}
	for name, tt := range bad {
		_, err := tt.config.runtimeConfig(nil)
		if err == nil || !strings.Contains(err.Error(), tt.message) {
			t.Errorf("%s: error %v, want one saying %q", name, err, tt.message)
		}
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
