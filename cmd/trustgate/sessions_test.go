package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startSessionInstance runs one gateway instance on the shared database
// dsn, without a device check, serving any host name on its own port.
func startSessionInstance(t *testing.T, env []string, root, dsn string) *instance {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	trusted_endpoints {
		storage postgres {env.TG_TEST_DSN}
	}
}

http://:%d {
	trusted_endpoints {
		application legacy
		login users_file docs/demo/users.yaml
	}
	respond "upstream: {http.request.header.X-Trustgate-User}"
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

// copyCookies returns a new client holding c's cookies for base, as
// someone who copied them would.
func copyCookies(t *testing.T, c *client, base string) *client {
	t.Helper()
	u, _ := url.Parse(base)
	thief := newClient(t)
	thief.c.Jar.SetCookies(u, c.c.Jar.Cookies(u))
	return thief
}

// signOut posts the sign-out form of base.
func (c *client) signOut(base string) {
	c.t.Helper()
	status, page := c.get(base + "/.trustgate/logout")
	m := csrfField.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		c.t.Fatalf("sign-out page: %d\n%s", status, page)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/.trustgate/logout", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("sign-out: %d", resp.StatusCode)
	}
}

// waitRefused polls u with c until the gateway sends it to login, and
// returns how long that took after since; it fails after a short deadline.
func waitRefused(t *testing.T, c *client, u string, since time.Time, what string) time.Duration {
	t.Helper()
	deadline := since.Add(3 * time.Second)
	for {
		status, body := c.get(u)
		if status == http.StatusFound {
			return time.Since(since)
		}
		if status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
			t.Fatalf("%s: %d %s", what, status, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still let in %s later", what, time.Since(since).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Two trustgate processes share one PostgreSQL: a session signed out on A
// stops working on B at once, even from a copied cookie, and an admin's
// revocation of a user's sessions on B is enforced by A.
func TestSessionRevocationCrossesInstances(t *testing.T) {
	dsn := testPostgres(t)
	env := isolatedEnv(t)
	root := repoRoot(t)
	a := startSessionInstance(t, env, root, dsn)
	b := startSessionInstance(t, env, root, dsn)

	c := newClient(t)
	if status := c.login(a.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("login on A: %d", status)
	}
	thief := copyCookies(t, c, a.url)
	if status, body := thief.get(b.url + "/"); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
		t.Fatalf("copied cookie on B before sign-out: %d %s", status, body)
	}
	c.signOut(a.url)
	signedOut := time.Now()
	delay := waitRefused(t, thief, b.url+"/", signedOut, "copied cookie on B after sign-out on A")
	t.Logf("B refused the copied cookie %s after the sign-out on A", delay.Round(time.Microsecond))

	d := newClient(t)
	if status := d.login(a.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
		t.Fatalf("second login on A: %d", status)
	}
	if status, body := d.get(a.url + "/"); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
		t.Fatalf("new session on A: %d %s", status, body)
	}
	resp, err := http.Post(b.admin+"/trusted-endpoints/users/alice/sessions/revoke", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("admin revoke on B: %d", resp.StatusCode)
	}
	revoked := time.Now()
	delay = waitRefused(t, d, a.url+"/", revoked, "alice's session on A after the admin revoked on B")
	t.Logf("A enforced B's revocation of alice's sessions %s after it", delay.Round(time.Microsecond))
}
