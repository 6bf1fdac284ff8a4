package main

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// startManagedInstance runs one gateway instance on the shared database
// dsn over HTTPS, asking browsers for a device certificate of the CA in
// caFile (Caddy's client_auth, verify_if_given), with managed devices on
// for everyone in mode block.
func startManagedInstance(t *testing.T, env []string, root, dsn, caFile string) *instance {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	https_port %d
	auto_https disable_redirects
	skip_install_trust
	trusted_endpoints {
		storage postgres {env.TG_TEST_DSN}
	}
}

https://localhost:%d {
	tls internal {
		client_auth {
			mode verify_if_given
			trust_pool file %s
		}
	}
	trusted_endpoints {
		application legacy
		login users_file docs/demo/users.yaml
		mode block
		managed {
			enable all
		}
	}
	respond "upstream: {http.request.header.X-Trustgate-User} {http.request.header.X-Trustgate-Device-Trust}"
}
`, adminPort, port, port, caFile)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := launch(t, append(env, "TG_TEST_DSN="+dsn), root, path, port)
	gw.url = fmt.Sprintf("https://localhost:%d", port)
	t.Cleanup(gw.stop)
	return &instance{gateway: gw, admin: fmt.Sprintf("http://localhost:%d", adminPort)}
}

// adminCall sends method path with body to the admin endpoint at admin and
// decodes its JSON answer into out; it fails t unless the status is want.
func adminCall(t *testing.T, admin, method, path, contentType, body string, want int, out any) {
	t.Helper()
	req, err := http.NewRequest(method, admin+path, strings.NewReader(body))
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
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, raw)
		}
	}
}

// activateOn uploads an inventory listing the fingerprints (as Windows
// desktops) through the admin endpoint at admin, and activates it.
func activateOn(t *testing.T, admin string, fingerprints ...string) {
	t.Helper()
	var inv struct{ ID string }
	adminCall(t, admin, "POST", "/trusted-endpoints/inventories", "application/json", `{"source":"test export"}`, http.StatusCreated, &inv)
	csv := "fingerprint,platform,label\n"
	for i, fp := range fingerprints {
		csv += fmt.Sprintf("%s,windows,desk-%d\n", fp, i)
	}
	adminCall(t, admin, "PUT", "/trusted-endpoints/inventories/"+inv.ID+"/entries", "text/csv", csv, http.StatusOK, nil)
	adminCall(t, admin, "POST", "/trusted-endpoints/inventories/"+inv.ID+"/activate", "", "", http.StatusOK, nil)
}

// within retries try every 50 ms until it reports true, and fails t after
// limit; it returns how long it took.
func within(t *testing.T, limit time.Duration, what string, try func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !try() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// Two trustgate processes share one PostgreSQL over mutual TLS: an
// inventory activated through A's admin endpoint lets the managed desktop
// in on B at once, by the store's event: the deadline is generous but
// shorter than B's 30-second refresh, so only the event can meet it. A new
// inventory without the desktop, activated on A, takes B's trust away on
// the desktop's next request.
func TestInventoryActivationReachesTheOtherInstanceAtOnce(t *testing.T) {
	dsn := testPostgres(t)
	env := isolatedEnv(t)
	root := repoRoot(t)
	ca := gatetest.NewCA(t, "Test device CA")
	caFile := filepath.Join(t.TempDir(), "device-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	a := startManagedInstance(t, env, root, dsn, caFile)
	b := startManagedInstance(t, env, root, dsn, caFile)
	laptop, other := ca.Issue(t, "desk-1"), ca.Issue(t, "desk-2")

	c := newClient(t)
	c.ua = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
	c.c.Transport = &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // the instances' internal CA, loopback only
		Certificates:       []tls.Certificate{*laptop},
	}}
	// The site's certificate comes from Caddy's internal CA once it is made.
	within(t, 30*time.Second, "B serving over TLS", func() bool {
		resp, err := c.c.Get(b.url + "/.trustgate/login")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})

	activateOn(t, a.admin, gatetest.Fingerprint(laptop))
	took := within(t, 20*time.Second, "B letting the managed desktop in after A's activation", func() bool {
		return c.login(b.url, "alice", "trustgate-demo") == http.StatusSeeOther
	})
	t.Logf("B trusted the desktop %s after A activated the inventory", took.Round(time.Millisecond))
	if status, body := c.get(b.url + "/"); status != http.StatusOK || !strings.Contains(body, "upstream: alice trusted") {
		t.Fatalf("B after sign-in: %d %s", status, body)
	}

	activateOn(t, a.admin, gatetest.Fingerprint(other))
	took = within(t, 20*time.Second, "B refusing the removed desktop after A's new inventory", func() bool {
		status, _ := c.get(b.url + "/")
		return status != http.StatusOK
	})
	t.Logf("B refused the removed desktop %s after A activated the new inventory", took.Round(time.Millisecond))
}
