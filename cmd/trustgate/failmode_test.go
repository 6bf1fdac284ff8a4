package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// pgProxy is a TCP proxy in front of PostgreSQL that the test can cut, as a
// network partition or a database restart would.
type pgProxy struct {
	t        *testing.T
	target   string
	addr     string
	mu       sync.Mutex
	listener net.Listener
	conns    map[net.Conn]struct{}
}

func newPGProxy(t *testing.T, target string) *pgProxy {
	t.Helper()
	p := &pgProxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	t.Cleanup(p.cut)
	return p
}

func (p *pgProxy) listen(addr string) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatal(err)
	}
	p.mu.Lock()
	p.listener, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *pgProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// cut closes every connection and refuses new ones.
func (p *pgProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// restore accepts connections again, on the same address.
func (p *pgProxy) restore() { p.listen(p.addr) }

// proxiedDSN returns dsn with its host and port replaced by the proxy's.
func (p *pgProxy) proxiedDSN(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		p.t.Fatal(err)
	}
	u.Host = p.addr
	return u.String()
}

// startFailInstance runs a gateway in mode block with fail_mode fail on
// dsn.
func startFailInstance(t *testing.T, dsn, fail string) *gateway {
	t.Helper()
	env, root := isolatedEnv(t), repoRoot(t)
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	trusted_endpoints {
		storage postgres {env.TG_TEST_DSN}
	}
}

http://:%d {
	trusted_endpoints {
		login users_file docs/demo/users.yaml
		mode block
		fail_mode %s
		mobile {
			enable groups pilot
			require screen_lock
		}
	}
	respond "upstream: {http.request.header.X-Trustgate-User} {http.request.header.X-Trustgate-Device-Trust}"
}
`, adminPort, port, fail)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := launch(t, append(env, "TG_TEST_DSN="+dsn), root, path, port)
	t.Cleanup(gw.stop)
	return gw
}

// The database becomes unreachable mid-test, for each fail mode, and comes
// back; the gateway recovers without a restart.
func TestFailModesWithPostgresCut(t *testing.T) {
	for _, tc := range []struct {
		fail     string
		whileCut int    // the sign-in's status while the database is cut
		body     string // what the page says
	}{
		{"secure", http.StatusServiceUnavailable, "temporarily unavailable"},
		{"safe", http.StatusOK, "upstream: alice unknown"},
		{"check", http.StatusOK, "upstream: alice unknown"},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			dsn := testPostgres(t)
			proxy := newPGProxy(t, mustHost(t, dsn))
			gw := startFailInstance(t, proxy.proxiedDSN(dsn), tc.fail)

			// With the database up, alice on a phone gets the prompt.
			phone := newClient(t)
			phone.ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
			if status := phone.login(gw.url, "alice", "trustgate-demo"); status != http.StatusSeeOther {
				t.Fatalf("login with the database up: %d", status)
			}
			if status, body := phone.get(gw.url + "/.trustgate/verify"); status != http.StatusOK || !strings.Contains(body, `id="open-app"`) {
				t.Fatalf("prompt with the database up: %d", status)
			}

			proxy.cut()
			c := newClient(t)
			c.ua = phone.ua
			status, body := c.loginAndFollow(gw.url, "alice", "trustgate-demo")
			if status != tc.whileCut || !strings.Contains(body, tc.body) {
				t.Fatalf("sign-in with the database cut: %d\n%s", status, body)
			}

			// Connections the cut broke are found dead on their next use,
			// so the first sign-in after the database returns may still
			// meet one; within seconds, without a restart, it works.
			proxy.restore()
			restored := time.Now()
			for attempt := 1; ; attempt++ {
				c = newClient(t)
				c.ua = phone.ua
				status := c.login(gw.url, "alice", "trustgate-demo")
				if status == http.StatusSeeOther {
					t.Logf("sign-in works again %s after the database returned (attempt %d)", time.Since(restored).Round(time.Millisecond), attempt)
					break
				}
				if status != http.StatusServiceUnavailable || time.Since(restored) > 15*time.Second {
					t.Fatalf("login after the database came back: %d (attempt %d)", status, attempt)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if status, body := c.get(gw.url + "/.trustgate/verify"); status != http.StatusOK || !strings.Contains(body, `id="open-app"`) {
				t.Fatalf("prompt after the database came back: %d\n%s", status, body)
			}
		})
	}
}

func mustHost(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// loginAndFollow signs in and follows the gateway's redirects to the page
// that ends the sign-in, returning its status and body.
func (c *client) loginAndFollow(base, user, password string) (int, string) {
	c.t.Helper()
	status, body := c.get(base + "/.trustgate/login")
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		c.t.Fatalf("login form: %d\n%s", status, body)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/.trustgate/login",
		strings.NewReader(url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", c.ua)
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	status, body, loc := resp.StatusCode, string(b), resp.Header.Get("Location")
	for i := 0; i < 5 && loc != "" && status >= 300 && status < 400; i++ {
		req, _ := http.NewRequest(http.MethodGet, base+loc, nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("User-Agent", c.ua)
		resp, err := c.c.Do(req)
		if err != nil {
			c.t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		status, body, loc = resp.StatusCode, string(b), resp.Header.Get("Location")
	}
	return status, body
}
