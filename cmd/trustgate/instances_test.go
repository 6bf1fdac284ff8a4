package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// testPostgres returns a connection string for a fresh database on the
// server named by TRUSTGATE_TEST_POSTGRES, dropped when t ends. Without the
// variable the test skips, except in CI.
func testPostgres(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("TRUSTGATE_TEST_POSTGRES")
	if admin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("TRUSTGATE_TEST_POSTGRES is not set; CI must provide PostgreSQL")
		}
		t.Skip("TRUSTGATE_TEST_POSTGRES is not set: skipping, this test needs a PostgreSQL server (e.g. TRUSTGATE_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable)")
	}
	var b [8]byte
	rand.Read(b[:])
	name := "tg_instances_" + hex.EncodeToString(b[:])
	run := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Fatalf("connecting to the test server: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	run("CREATE DATABASE " + name)
	t.Cleanup(func() { run("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal("TRUSTGATE_TEST_POSTGRES must be a postgres:// URL for this test")
	}
	u.Path = "/" + name
	return u.String()
}

// instance is one trustgate process of a shared deployment.
type instance struct {
	*gateway
	admin string
}

// startInstance runs one gateway instance on the shared database dsn,
// serving any host name on its own port (as behind a load balancer).
func startInstance(t *testing.T, env []string, root, dsn string) *instance {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	trusted_endpoints {
		storage postgres {env.TG_TEST_DSN}
	}
}

http://:%d {
	trusted_endpoints {
		application legacy
		login users_file docs/demo/users.yaml
		mode block
		mobile {
			enable groups pilot
			require screen_lock not_tampered
			min_os android 14
		}
	}
	respond "upstream: {http.request.header.X-Trustgate-User} {http.request.header.X-Trustgate-Device-Trust}"
}
`, adminPort, port)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := launch(t, append(env, "TG_TEST_DSN="+dsn), root, path, port)
	t.Cleanup(gw.stop)
	return &instance{gateway: gw, admin: fmt.Sprintf("http://localhost:%d", adminPort)}
}

// dialOnly returns an HTTP client that sends every request to addr,
// whatever the URL's host, as a load balancer routing to one instance does.
func dialOnly(addr string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}}
}

// Two trustgate processes share one PostgreSQL: the phone's browser talks to
// instance A, the app to instance B, and the inline check completes; a
// revocation on B is enforced by A on the next request.
func TestTwoInstancesShareOnePostgres(t *testing.T) {
	dsn := testPostgres(t)
	env := isolatedEnv(t)
	root := repoRoot(t)
	a := startInstance(t, env, root, dsn)
	b := startInstance(t, env, root, dsn)
	origin := a.url // the one name people and apps use for the gateway

	// The app is activated through B.
	resp, err := http.Post(b.admin+"/trusted-endpoints/activations", "application/json", strings.NewReader(`{"user":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	var issued struct{ Code string }
	_ = json.NewDecoder(resp.Body).Decode(&issued)
	resp.Body.Close()
	if issued.Code == "" {
		t.Fatalf("activation on B: %d", resp.StatusCode)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	dev, err := agent.New(agent.Config{Key: key, Client: dialOnly(fmt.Sprintf("127.0.0.1:%d", b.port))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Activate(context.Background(), origin+protocol.ActivateLinkPath+"?code="+url.QueryEscape(issued.Code),
		agent.DeviceInfo{Platform: "android", Model: "Pixel 8", OSVersion: "14", AppVersion: "1.0.0"}); err != nil {
		t.Fatalf("activating through B: %v", err)
	}

	// The browser signs in on A and gets the prompt.
	c := newClient(t)
	c.ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	if status := c.login(a.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("login on A: %d", status)
	}
	status, page := c.get(a.url + "/.trustgate/verify")
	m := regexp.MustCompile(`data-https-link="([^"]+)"`).FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("prompt on A: %d\n%s", status, page)
	}

	// The app reports and approves through B.
	yes, no := true, false
	rep, err := dev.Verify(context.Background(), html.UnescapeString(m[1]), agent.Facts{
		Platform: "android", OSVersion: "14", ScreenLock: &yes, Tampered: &no, AppVersion: "1.0.0", Model: "Pixel 8",
	})
	if err != nil || !rep.Trusted || rep.Push == nil {
		t.Fatalf("report through B: %+v %v", rep, err)
	}
	ans, err := dev.Answer(context.Background(), origin, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil || ans.ReturnURL == "" {
		t.Fatalf("approval through B: %+v %v", ans, err)
	}

	// The phone's browser comes back to A and is in.
	if status, _ := c.get(ans.ReturnURL); status != http.StatusSeeOther {
		t.Fatalf("return link on A: %d", status)
	}
	if status, body := c.get(a.url + "/"); status != http.StatusOK || !strings.Contains(body, "upstream: alice trusted") {
		t.Fatalf("A after the check: %d %s", status, body)
	}

	// Revoked on B: A refuses the session's trust on its next request.
	resp, err = http.Post(b.admin+"/trusted-endpoints/devices/"+dev.DeviceID()+"/revoke", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke on B: %d", resp.StatusCode)
	}
	// The event travels through PostgreSQL, so allow it a moment.
	revoked := time.Now()
	deadline := revoked.Add(5 * time.Second)
	for {
		status, _ := c.get(a.url + "/")
		if status == http.StatusSeeOther {
			t.Logf("A enforced B's revocation %s after it", time.Since(revoked).Round(time.Millisecond))
			break // sent back to the device check
		}
		if time.Now().After(deadline) {
			t.Fatalf("A still lets the revoked device's session in: %d", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
