package caddymodule

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

func TestUsersFileLoginReachesUpstreamWithIdentity(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)

	back := b.login("alice", gatetest.Users["alice"].Password, "/reports?year=2026")
	if back != "/reports?year=2026" {
		t.Fatalf("after login went to %q, want the original URL", back)
	}
	v := decodeUpstream(t, b.get(gateURL+back))
	want := map[string]string{
		"X-Trustgate-User":      "alice",
		"X-Trustgate-Email":     "alice@example.com",
		"X-Trustgate-Groups":    "staff,pilot",
		"X-Placeholder-User":    "alice",
		"X-Placeholder-Auth-Id": "alice",
		"X-Placeholder-Groups":  "staff,pilot",
	}
	for name, value := range want {
		if got := v.Headers[name]; len(got) != 1 || got[0] != value {
			t.Errorf("upstream header %s = %q, want %q", name, got, value)
		}
	}
	for _, c := range v.Headers["Cookie"] {
		if strings.Contains(c, "tg_session") || strings.Contains(c, "tg_flow") {
			t.Errorf("upstream received the gateway's cookie: %q", c)
		}
	}
	if v.Path != "/reports" {
		t.Errorf("upstream path %q", v.Path)
	}

	entries := authLog(t, "user=alice")
	if len(entries) != 1 || entries[0].Result != "success" || entries[0].Factor != "password" || entries[0].Application != "legacy" {
		t.Fatalf("auth log for alice: %+v", entries)
	}
	if entries[0].IP == "" || entries[0].UserAgent == "" {
		t.Errorf("auth log lacks the access device: %+v", entries[0])
	}
}

func TestUnauthenticatedRequestNeverReachesUpstream(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	for _, path := range []string{"/", "/app/secret", "/reports"} {
		r := b.get(gateURL + path)
		if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?return=") {
			t.Errorf("GET %s: status %d location %q, want a redirect to the login page", path, r.status, r.location)
		}
	}
	if up.Hits() != 0 {
		t.Fatalf("upstream was reached %d times without a session", up.Hits())
	}
}

func TestGateRunsBeforeHandleRoutes(t *testing.T) {
	// /app/* is served by a handle block with its own reverse_proxy; the
	// gate must still run first without the Caddyfile ordering it.
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	r := b.get(gateURL + "/app/admin")
	if r.status != http.StatusFound {
		t.Fatalf("GET /app/admin without a session: %d, want 302 to login", r.status)
	}
	b.login("bob", gatetest.Users["bob"].Password, "/app/admin")
	v := decodeUpstream(t, b.get(gateURL+"/app/admin"))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "bob" {
		t.Fatalf("handle route got user header %q", got)
	}
}

func TestSpoofedIdentityHeadersAreReplaced(t *testing.T) {
	cases := []struct {
		name    string
		servers string
		spoofed []string
	}{
		{
			name:    "case variants",
			spoofed: []string{"X-Trustgate-User", "x-trustgate-user", "X-TRUSTGATE-EMAIL", "x-TrustGate-Groups"},
		},
		{
			// Caddy drops headers with '_' or '.' unless the operator lets
			// them through for a backend that needs them; then the gate
			// must remove the ones a CGI or PHP backend would fold into
			// its identity variables.
			name:    "underscore and dot variants let through by the server",
			servers: "expected_underscore_headers x_trustgate_*\n\t\texpected_dot_headers x.trustgate.*",
			spoofed: []string{"X_Trustgate_User", "x_trustgate_groups", "X_TRUSTGATE_EMAIL", "x.trustgate.user"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			up := newUpstream(t)
			usersGateway(t, up, tc.servers)
			b := newBrowser(t)
			b.login("bob", gatetest.Users["bob"].Password, "/")

			req, _ := http.NewRequest(http.MethodGet, gateURL+"/whoami", nil)
			for _, name := range tc.spoofed {
				// Set the map directly so Go keeps the spelling.
				req.Header[name] = []string{"mallory"}
			}
			req.Header.Set("X-Unrelated", "kept")
			v := decodeUpstream(t, b.do(req))
			for name, values := range v.Headers {
				for _, value := range values {
					if value == "mallory" {
						t.Errorf("spoofed header survived: %s: %s", name, value)
					}
				}
			}
			if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "bob" {
				t.Errorf("X-Trustgate-User = %q, want only bob", got)
			}
			if got := v.Headers["X-Unrelated"]; len(got) != 1 {
				t.Errorf("an unrelated header was lost: %v", v.Headers)
			}
		})
	}
}

// TestServerLetsUnderscoreHeadersThrough is the control for the case above:
// with the server options used there, an underscore header that is not an
// identity header does reach the upstream, so the gate (not Caddy) is what
// removes the spoofed ones.
func TestServerLetsUnderscoreHeadersThrough(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "expected_underscore_headers x_trustgate_* x_custom_*")
	b := newBrowser(t)
	b.login("bob", gatetest.Users["bob"].Password, "/")
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/", nil)
	req.Header["X_Custom_Thing"] = []string{"passes"}
	v := decodeUpstream(t, b.do(req))
	found := false
	for name, values := range v.Headers {
		if strings.EqualFold(name, "X_Custom_Thing") && len(values) == 1 && values[0] == "passes" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the server did not let an allowed underscore header through: %v", v.Headers)
	}
}

func TestSpoofedHeadersWithoutSessionGetNoAccess(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/", nil)
	req.Header.Set("X-Trustgate-User", "alice")
	if r := b.do(req); r.status != http.StatusFound {
		t.Fatalf("spoofed header without session: %d", r.status)
	}
	if up.Hits() != 0 {
		t.Fatal("upstream reached with only a spoofed header")
	}
}

func TestNonBrowserRequestGets401JSON(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	cases := map[string]map[string]string{
		"api client":   {"Accept": "application/json"},
		"curl default": {"Accept": "*/*"},
		"xhr":          {"Accept": "text/html", "X-Requested-With": "XMLHttpRequest"},
		"fetch":        {"Accept": "text/html", "Sec-Fetch-Mode": "cors"},
	}
	for name, headers := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, gateURL+"/api/items", nil)
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			r := b.do(req)
			if r.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", r.status)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content type %q", ct)
			}
			var body map[string]string
			if err := json.Unmarshal([]byte(r.body), &body); err != nil {
				t.Fatalf("body is not JSON: %v: %s", err, r.body)
			}
			if body["error"] == "" || !strings.HasPrefix(body["login_url"], "/.trustgate/login?return=") {
				t.Fatalf("body %v", body)
			}
		})
	}
}

func TestLogoutNeedsCSRFAndEndsSession(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")

	// A cross-site post without the token does nothing.
	r := b.postForm(gateURL+"/.trustgate/logout", url.Values{"csrf": {"forged"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("logout with a forged token: %d, want 403", r.status)
	}
	decodeUpstream(t, b.get(gateURL+"/still-in"))

	page := b.get(gateURL + "/.trustgate/logout")
	if page.status != http.StatusOK || !strings.Contains(page.body, "alice") {
		t.Fatalf("logout page: %d %s", page.status, page.body)
	}
	r = b.postForm(gateURL+"/.trustgate/logout", url.Values{"csrf": {formCSRF(t, page.body)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	if b.sessionCookie() != "" {
		t.Fatal("session cookie still set after logout")
	}
	if r := b.get(gateURL + "/after"); r.status != http.StatusFound {
		t.Fatalf("after logout: %d, want a redirect to login", r.status)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "") // lockout 3 15m
	b := newBrowser(t)
	csrf := b.openLoginForm("/")

	wrongPassword := b.submitLogin(csrf, "alice", "wrong password")
	unknownUser := b.submitLogin(csrf, "nobody", "wrong password")
	for _, r := range []response{wrongPassword, unknownUser} {
		if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "Wrong user name or password.") {
			t.Fatalf("wrong credentials: %d %s", r.status, r.body)
		}
	}
	for range 2 {
		if r := b.submitLogin(csrf, "ALICE", "still wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("failure: %d", r.status)
		}
	}
	// Three failures for alice from this address: even the right password
	// is refused now.
	r := b.submitLogin(csrf, "alice", gatetest.Users["alice"].Password)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("after 3 failures: %d, want 429", r.status)
	}
	if b.sessionCookie() != "" {
		t.Fatal("locked-out login got a session")
	}
	// Another user from the same address is not affected.
	if r := b.submitLogin(csrf, "bob", gatetest.Users["bob"].Password); r.status != http.StatusSeeOther {
		t.Fatalf("bob: %d", r.status)
	}

	reasons := map[string]int{}
	for _, e := range authLog(t, "") {
		reasons[e.Result+"/"+e.Reason]++
	}
	want := map[string]int{"denied/invalid_password": 3, "denied/unknown_user": 1, "denied/locked_out": 1, "success/valid_password": 1}
	for k, n := range want {
		if reasons[k] != n {
			t.Errorf("auth log has %d %s rows, want %d (all: %v)", reasons[k], k, n, reasons)
		}
	}
}

func TestLoginFormRefusesPostWithoutCSRF(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	b.openLoginForm("/")
	r := b.submitLogin("not-the-token", "alice", gatetest.Users["alice"].Password)
	if r.status != http.StatusForbidden {
		t.Fatalf("login with a wrong CSRF token: %d, want 403", r.status)
	}
	if b.sessionCookie() != "" {
		t.Fatal("a cross-site login post got a session")
	}
	// A fresh form comes back, so the person can simply try again.
	if r2 := b.submitLogin(formCSRF(t, r.body), "alice", gatetest.Users["alice"].Password); r2.status != http.StatusSeeOther {
		t.Fatalf("retry with the new form: %d", r2.status)
	}
}

func TestOpenRedirectTargetsLandOnRoot(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	hostile := []string{
		"//evil.example",
		"https://evil.example/",
		"http:evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"/%2F%2Fevil.example",
		"/%5Cevil.example",
		"%2F%2Fevil.example",
		"/%252F%252Fevil.example",
		"javascript:alert(1)",
		"/\t/evil.example",
		"///evil.example",
		"evil.example",
		"/.trustgate/login?return=//evil.example",
		"https:/\\evil.example",
	}
	for _, target := range hostile {
		t.Run(target, func(t *testing.T) {
			b := newBrowser(t)
			csrf := b.openLoginForm(target)
			r := b.submitLogin(csrf, "bob", gatetest.Users["bob"].Password)
			if r.status != http.StatusSeeOther || r.location != "/" {
				t.Fatalf("return=%q: status %d location %q, want /", target, r.status, r.location)
			}
		})
	}
}
