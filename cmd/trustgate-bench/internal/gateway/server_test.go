package gateway

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// TestMain lets the test binary stand in for the bench binary, which
// Start runs as the gateway.
func TestMain(m *testing.M) {
	if IsServeInvocation() {
		Serve()
		return
	}
	os.Exit(m.Run())
}

// Both configurations are Caddyfiles Caddy with trustgate's modules
// accepts, on either storage; only B puts trusted_endpoints in front.
func TestConfigsAdapt(t *testing.T) {
	t.Parallel()
	adapter := caddyconfig.GetAdapter("caddyfile")
	users := filepath.Join(t.TempDir(), "users.yaml")
	for _, c := range []struct {
		name, cfg string
		gated     bool
	}{
		{"plain", PlainConfig(8080, 2019, "127.0.0.1:9000"), false},
		{"gated sqlite", GatedConfig(8080, 2019, "127.0.0.1:9000", users, SQLiteStorage("/tmp/x/tg.db"), ""), true},
		{"gated postgres", GatedConfig(8080, 2019, "127.0.0.1:9000", users, PostgresStorage("postgres://u@h/db"), "2s"), true},
	} {
		out, _, err := adapter.Adapt([]byte(c.cfg), nil)
		if err != nil {
			t.Errorf("%s: %v\n%s", c.name, err, c.cfg)
			continue
		}
		if got := strings.Contains(string(out), "trusted_endpoints"); got != c.gated {
			t.Errorf("%s: trusted_endpoints in the JSON: %v, want %v\n%s", c.name, got, c.gated, out)
		}
	}
	if st := PostgresStorage("postgres://u:secret@h/db"); strings.Contains(GatedConfig(1, 2, "a:3", users, st, ""), "secret") {
		t.Error("the PostgreSQL URL is written into the Caddyfile; it belongs in the environment")
	}
}

// A server started on free ports proxies to the upstream, and reports its
// CPU time, memory, goroutines and metrics until it stops.
func TestServerRunsAndReportsItsFigures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a gateway process; skipped in -short mode")
	}
	t.Parallel()
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "upstream\n")
	}))
	defer upstream.Close()
	dir := t.TempDir()
	srv, err := StartOnFreePorts(func(port, adminPort int) (*Server, error) {
		return Start("plain", dir, PlainConfig(port, adminPort, strings.TrimPrefix(upstream.URL, "http://")), port, adminPort)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "upstream\n" {
		t.Fatalf("GET /: %d %q, want the upstream's page", resp.StatusCode, body)
	}
	if _, err := srv.CPU(); err != nil {
		t.Error(err)
	}
	if rss, err := srv.RSS(); err != nil || rss <= 0 {
		t.Errorf("RSS %d, %v", rss, err)
	}
	if err := srv.Collect(); err != nil {
		t.Error(err)
	}
	if mem, err := srv.GoMemory(); err != nil || mem.HeapInuse <= 0 || mem.Sys < mem.HeapInuse || mem.Goroutines <= 0 || mem.NumGC < 1 {
		t.Errorf("Go memory %+v, %v; want a heap, a collection and goroutines", mem, err)
	}
	if n, err := srv.MetricSum("go_goroutines"); err != nil || n <= 0 {
		t.Errorf("go_goroutines %v, %v", n, err)
	}
	if _, err := srv.MetricSum("no_such_metric"); err == nil {
		t.Error("a metric the server does not report: no error")
	}
	if err := srv.SaveProfiles("test"); err != nil {
		t.Error(err)
	}
	for _, f := range []string{"test-heap.pb.gz", "test-goroutine.txt"} {
		if info, err := os.Stat(filepath.Join(dir, f)); err != nil || info.Size() == 0 {
			t.Errorf("profile %s: %v", f, err)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	if _, err := srv.CPU(); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("CPU of a stopped server: err %v, want that it exited", err)
	}
	if !strings.Contains(srv.LogTail(), "serving initial configuration") {
		t.Errorf("log tail has no start:\n%s", srv.LogTail())
	}
}
