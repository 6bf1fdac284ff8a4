package caddymodule

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// Two sites on the test gateway, told apart by host name. Their requests
// are dialled to loopback whatever the name (see siteTransport).
func siteURL(scheme, host string) string {
	port := httpPort
	if scheme == "https" {
		port = httpsPort
	}
	return fmt.Sprintf("%s://%s:%d", scheme, host, port)
}

// siteTransport dials every request to loopback on its port, so host names
// such as a.localhost reach the test Caddy, and skips verifying the
// certificate of Caddy's internal CA (loopback only).
func siteTransport(ua string) http.RoundTripper {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	t := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
		},
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback test server
	}
	if ua == "" {
		return t
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", ua)
		return t.RoundTrip(r)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// newSiteBrowser returns a browser that reaches every test site; ua, when
// set, is its user agent.
func newSiteBrowser(t *testing.T, ua string) *browser {
	b := newBrowser(t)
	b.client.Transport = siteTransport(ua)
	return b
}

// writeUsersFileOf writes a users file holding only the named users of
// gatetest.Users, as gatetest.WriteUsersFile writes them all.
func writeUsersFileOf(t *testing.T, names ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("users:\n")
	for _, name := range names {
		u := gatetest.Users[name]
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  - username: %s\n    password_hash: %q\n    email: %s\n    groups: [%s]\n",
			name, hash, u.Email, strings.Join(u.Groups, ", "))
	}
	path := filepath.Join(t.TempDir(), strings.Join(names, "-")+".yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// signInAt signs user in on the site at base through the login form,
// starting from path, and returns where the gateway sends them next.
func (b *browser) signInAt(base, user, path string) string {
	b.t.Helper()
	r := b.get(base + path)
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		b.t.Fatalf("%s%s before sign-in: %d → %q", base, path, r.status, r.location)
	}
	r = b.get(base + r.location)
	if r.status != http.StatusOK {
		b.t.Fatalf("login form at %s: %d", base, r.status)
	}
	r = b.postForm(base+"/.trustgate/login", url.Values{
		"csrf": {formCSRF(b.t, r.body)}, "username": {user}, "password": {gatetest.Users[user].Password},
	})
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("sign-in at %s: %d %s", base, r.status, r.body)
	}
	return r.location
}

// cookieAt returns the browser's cookie called name for the site at base.
func (b *browser) cookieAt(base, name string) string {
	b.t.Helper()
	u, _ := url.Parse(base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	b.t.Fatalf("no %s cookie for %s", name, base)
	return ""
}

// withCookie sends a GET of rawURL carrying only the cookie name=value, as a
// person who copied it into another site would, from a fresh browser.
func withCookie(t *testing.T, rawURL, name, value string, accept string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	req.AddCookie(&http.Cookie{Name: name, Value: value})
	return newSiteBrowser(t, gatetest.AndroidUA).do(req)
}

const acceptHTML = "text/html,application/xhtml+xml"

// refusedAsNoSession checks that r is what a request without a session
// gets: a redirect to the login page (a browser) or a 401 (an API client).
func refusedAsNoSession(t *testing.T, what string, r response, accept string) {
	t.Helper()
	if accept == acceptHTML {
		if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
			t.Fatalf("%s: %d → %q, want a redirect to the login page\n%s", what, r.status, r.location, r.body)
		}
		return
	}
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "authentication required") {
		t.Fatalf("%s: %d, want 401 authentication required\n%s", what, r.status, r.body)
	}
}

// twoSites starts a.localhost and b.localhost on scheme, each with its own
// users file (a knows bob, b knows alice) and upstream, with extra lines in
// both trusted_endpoints blocks.
func twoSites(t *testing.T, scheme, extra string) (upA, upB *upstream, a, b string) {
	t.Helper()
	upA, upB = newUpstream(t), newUpstream(t)
	a, b = siteURL(scheme, "a.localhost"), siteURL(scheme, "b.localhost")
	tlsLine := ""
	if scheme == "https" {
		tlsLine = "tls internal"
	}
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
%[1]s {
	%[3]s
	trusted_endpoints {
		application site-a
		login users_file %[4]s
		%[6]s
	}
	reverse_proxy %[7]s
}

%[2]s {
	%[3]s
	trusted_endpoints {
		application site-b
		login users_file %[5]s
		%[6]s
	}
	reverse_proxy %[8]s
}
`, a, b, tlsLine, writeUsersFileOf(t, "bob"), writeUsersFileOf(t, "alice"), extra, upA.hostPort(), upB.hostPort()))
	return upA, upB, a, b
}

// TestSessionFromAnotherRealmIsRefused: alice, known only to site B's users
// file, signs in on B and copies her session cookie to site A, which must
// treat it as no session; B keeps accepting it.
func TestSessionFromAnotherRealmIsRefused(t *testing.T) {
	upA, upB, a, b := twoSites(t, "http", "")
	alice := newSiteBrowser(t, "")
	if next := alice.signInAt(b, "alice", "/private"); next != "/private" {
		t.Fatalf("after sign-in on B: %q", next)
	}
	cookie := alice.cookieAt(b, "tg_session")
	for _, accept := range []string{acceptHTML, "application/json"} {
		refusedAsNoSession(t, "B's session on A", withCookie(t, a+"/private", "tg_session", cookie, accept), accept)
	}
	if upA.Hits() != 0 {
		t.Fatalf("A's upstream reached %d times with B's session", upA.Hits())
	}
	// A's pages that read the session refuse it too: the login page shows
	// its form rather than sending a signed-in person on.
	if r := withCookie(t, a+"/.trustgate/login", "tg_session", cookie, acceptHTML); r.status != http.StatusOK || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("A's login page with B's session: %d\n%s", r.status, r.body)
	}
	// The cookie is still good where it was issued.
	v := decodeUpstream(t, withCookie(t, b+"/private", "tg_session", cookie, acceptHTML))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Fatalf("B's session on B: user %q", got)
	}
	if upB.Hits() != 1 {
		t.Fatalf("B's upstream reached %d times, want 1", upB.Hits())
	}
	// A signs in its own people.
	bob := newSiteBrowser(t, "")
	bob.signInAt(a, "bob", "/")
	if got := decodeUpstream(t, bob.get(a+"/")).Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "bob" {
		t.Fatalf("bob on A: user %q", got)
	}
}

// waitForCertificates waits until each site answers over TLS: Caddy's
// internal CA issues their certificates in the background after the load.
func waitForCertificates(t *testing.T, sites ...string) {
	t.Helper()
	client := &http.Client{Transport: siteTransport("")}
	for _, site := range sites {
		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, err := client.Get(site + "/.trustgate/login")
			if err == nil {
				resp.Body.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never answered over TLS: %v", site, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestHTTPSSessionFromAnotherRealmIsRefused is the same across two HTTPS
// sites (tls internal), whose cookie is __Host-tg_session.
func TestHTTPSSessionFromAnotherRealmIsRefused(t *testing.T) {
	upA, _, a, b := twoSites(t, "https", "")
	waitForCertificates(t, a, b)
	alice := newSiteBrowser(t, "")
	alice.signInAt(b, "alice", "/")
	cookie := alice.cookieAt(b, "__Host-tg_session")
	decodeUpstream(t, withCookie(t, b+"/", "__Host-tg_session", cookie, acceptHTML))
	for _, accept := range []string{acceptHTML, "application/json"} {
		refusedAsNoSession(t, "B's HTTPS session on A", withCookie(t, a+"/", "__Host-tg_session", cookie, accept), accept)
	}
	if upA.Hits() != 0 {
		t.Fatalf("A's upstream reached %d times with B's session", upA.Hits())
	}
}

// TestDashboardRefusesSessionFromAnotherRealm: alice is in B's users file
// and in pilot, A's dashboard's admin group; her session from B copied to
// A's dashboard is no session there.
func TestDashboardRefusesSessionFromAnotherRealm(t *testing.T) {
	up := newUpstream(t)
	a, b := siteURL("http", "a.localhost"), siteURL("http", "b.localhost")
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
%[1]s {
	trusted_endpoints {
		application site-a
		login users_file %[3]s
	}
	trusted_endpoints_dashboard {
		admin_group pilot
		path_prefix /admin
	}
	reverse_proxy %[5]s
}

%[2]s {
	trusted_endpoints {
		application site-b
		login users_file %[4]s
	}
	trusted_endpoints_dashboard {
		admin_group pilot
		path_prefix /admin
	}
	reverse_proxy %[5]s
}
`, a, b, writeUsersFileOf(t, "bob"), writeUsersFileOf(t, "alice"), up.hostPort()))
	alice := newSiteBrowser(t, "")
	if next := alice.signInAt(b, "alice", "/admin/"); next != "/admin/" {
		t.Fatalf("after sign-in on B: %q", next)
	}
	// The control: she is an admin on B's dashboard.
	if r := alice.get(b + "/admin/endpoints"); r.status != http.StatusOK || !strings.Contains(r.body, "<table") {
		t.Fatalf("alice on B's dashboard: %d\n%s", r.status, r.body)
	}
	cookie := alice.cookieAt(b, "tg_session")
	for _, path := range []string{"/admin/", "/admin/endpoints", "/admin/auth-log", "/admin/auth-log.csv"} {
		r := withCookie(t, a+path, "tg_session", cookie, acceptHTML)
		refusedAsNoSession(t, "B's admin session on A's dashboard "+path, r, acceptHTML)
		if strings.Contains(r.body, "<table") || strings.Contains(r.body, "alice") {
			t.Fatalf("A's dashboard %s shows data to B's session:\n%s", path, r.body)
		}
	}
	if up.Hits() != 0 {
		t.Fatalf("the upstream was reached %d times", up.Hits())
	}
}

// TestBlockModeEnrollmentRefusesSessionFromAnotherRealm: on a mode block
// site with enrollment, neither a session nor a pending device check
// (login flow) from another realm reaches the prompt, so nobody A does not
// know can enroll a device there.
func TestBlockModeEnrollmentRefusesSessionFromAnotherRealm(t *testing.T) {
	upA, upB := newUpstream(t), newUpstream(t)
	a, b, c := siteURL("http", "a.localhost"), siteURL("http", "b.localhost"), siteURL("http", "c.localhost")
	usersB := writeUsersFileOf(t, "alice")
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
%[1]s {
	trusted_endpoints {
		application site-a
		login users_file %[4]s
		mode block
		%[6]s
		enrollment self block_mode
	}
	reverse_proxy %[7]s
}

%[2]s {
	trusted_endpoints {
		application site-b
		login users_file %[5]s
		mode block
		%[6]s
		enrollment self block_mode
	}
	reverse_proxy %[8]s
}

%[3]s {
	trusted_endpoints {
		application site-c
		login users_file %[5]s
	}
	reverse_proxy %[8]s
}
`, a, b, c, writeUsersFileOf(t, "bob"), usersB, pilotMobile, upA.hostPort(), upB.hostPort()))

	// A pending device check begun on B: B's prompt offers enrollment, A
	// does not know the flow.
	alice := newSiteBrowser(t, gatetest.AndroidUA)
	if next := alice.signInAt(b, "alice", "/"); next != "/.trustgate/verify" {
		t.Fatalf("after sign-in on B: %q, want the prompt", next)
	}
	if r := alice.get(b + "/.trustgate/verify"); r.status != http.StatusOK || !activationLinkAttr.MatchString(r.body) {
		t.Fatalf("control: B's prompt: %d, want an activation link\n%s", r.status, r.body)
	}
	flow := alice.cookieAt(b, "tg_flow")
	r := withCookie(t, a+"/.trustgate/verify", "tg_flow", flow, acceptHTML)
	if r.status != http.StatusBadRequest || activationLinkAttr.MatchString(r.body) || strings.Contains(r.body, "alice") {
		t.Fatalf("B's pending check on A's prompt: %d\n%s", r.status, r.body)
	}

	// A session of B's realm (issued by C, which shares B's users file):
	// B takes it to the device check, A takes it for no session.
	other := newSiteBrowser(t, gatetest.AndroidUA)
	other.signInAt(c, "alice", "/")
	session := other.cookieAt(c, "tg_session")
	if r := withCookie(t, b+"/", "tg_session", session, acceptHTML); r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("control: C's session on B: %d → %q, want B's device check", r.status, r.location)
	}
	refusedAsNoSession(t, "B's realm's session on A", withCookie(t, a+"/", "tg_session", session, acceptHTML), acceptHTML)
	if r := withCookie(t, a+"/.trustgate/verify", "tg_session", session, acceptHTML); r.status != http.StatusBadRequest || activationLinkAttr.MatchString(r.body) {
		t.Fatalf("B's realm's session on A's prompt: %d\n%s", r.status, r.body)
	}
	if upA.Hits() != 0 {
		t.Fatalf("A's upstream reached %d times", upA.Hits())
	}
	if entries := authLog(t, "user=alice&application=site-a"); len(entries) != 0 {
		t.Fatalf("A logged alice: %+v", entries)
	}
}

// oidcSignInAt signs the provider's queued user in on the site at base.
func (b *browser) oidcSignInAt(base, path string) {
	b.t.Helper()
	r := b.get(base + path)
	if r.status != http.StatusFound {
		b.t.Fatalf("GET %s%s: %d", base, path, r.status)
	}
	r = b.get(base + r.location)
	if r.status != http.StatusFound {
		b.t.Fatalf("login start at %s: %d %s", base, r.status, r.body)
	}
	r = b.get(r.location) // the provider signs the queued user in at once
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, base+"/.trustgate/oidc/callback?") {
		b.t.Fatalf("provider: %d → %q %s", r.status, r.location, r.body)
	}
	if r = b.get(r.location); r.status != http.StatusSeeOther || r.location != path {
		b.t.Fatalf("callback at %s: %d → %q %s", base, r.status, r.location, r.body)
	}
}

// TestOIDCSessionFromAnotherProviderIsRefused: two sites, each signing in
// through its own OIDC provider; a session from B's provider is no session
// on A.
func TestOIDCSessionFromAnotherProviderIsRefused(t *testing.T) {
	pA, pB := startProvider(t), startProvider(t)
	upA, upB := newUpstream(t), newUpstream(t)
	a, b := siteURL("http", "a.localhost"), siteURL("http", "b.localhost")
	site := func(host, application string, p *provider, up *upstream) string {
		return fmt.Sprintf(`
%s {
	trusted_endpoints {
		application %s
		login oidc {
			issuer        %s
			client_id     %s
			client_secret %s
		}
	}
	reverse_proxy %s
}
`, host, application, p.Issuer(), oidcClientID, oidcClientSecret, up.hostPort())
	}
	startGateway(t, globalOptions(storePath(t), "")+site(a, "site-a", pA, upA)+site(b, "site-b", pB, upB))
	pB.queueUser(oidcUser)
	jane := newSiteBrowser(t, "")
	jane.oidcSignInAt(b, "/private")
	cookie := jane.cookieAt(b, "tg_session")
	v := decodeUpstream(t, withCookie(t, b+"/private", "tg_session", cookie, acceptHTML))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "jane" {
		t.Fatalf("control: jane on B: %q", got)
	}
	for _, accept := range []string{acceptHTML, "application/json"} {
		refusedAsNoSession(t, "B's OIDC session on A", withCookie(t, a+"/private", "tg_session", cookie, accept), accept)
	}
	if upA.Hits() != 0 {
		t.Fatalf("A's upstream reached %d times with B's session", upA.Hits())
	}
}

// TestSessionRealmSharesOneSignIn: two sites with the same users file and
// session_realm corp share one sign-in; a third with the same users file
// but session_realm other does not.
func TestSessionRealmSharesOneSignIn(t *testing.T) {
	up := newUpstream(t)
	a, b, c := siteURL("http", "a.localhost"), siteURL("http", "b.localhost"), siteURL("http", "c.localhost")
	users := writeUsersFileOf(t, "alice", "bob")
	site := func(host, application, realm string) string {
		return fmt.Sprintf(`
%s {
	trusted_endpoints {
		application %s
		login users_file %s
		session_realm %s
	}
	reverse_proxy %s
}
`, host, application, users, realm, up.hostPort())
	}
	startGateway(t, globalOptions(storePath(t), "")+site(a, "site-a", "corp")+site(b, "site-b", "corp")+site(c, "site-c", "other"))
	alice := newSiteBrowser(t, "")
	alice.signInAt(a, "alice", "/")
	cookie := alice.cookieAt(a, "tg_session")
	v := decodeUpstream(t, withCookie(t, b+"/shared", "tg_session", cookie, acceptHTML))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Fatalf("A's session on B in the same realm: user %q", got)
	}
	refusedAsNoSession(t, "realm corp's session on realm other", withCookie(t, c+"/", "tg_session", cookie, acceptHTML), acceptHTML)
}

// loadCaddyfile posts a Caddyfile to the running test Caddy's admin API and
// returns its error, if any.
func loadCaddyfile(t *testing.T, config string) error {
	t.Helper()
	resp, err := http.Post(adminURL+"/load", "text/caddyfile", bytes.NewBufferString(config))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var out struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil || out.Error == "" {
		return fmt.Errorf("%d: %s", resp.StatusCode, body)
	}
	return errors.New(out.Error)
}

// lineOf returns the 1-based line of config holding the n-th (from 1)
// occurrence of s.
func lineOf(t *testing.T, config, s string, n int) int {
	t.Helper()
	for i, line := range strings.Split(config, "\n") {
		if strings.Contains(line, s) {
			if n--; n == 0 {
				return i + 1
			}
		}
	}
	t.Fatalf("%q does not occur in the config", s)
	return 0
}

// TestSessionRealmWithTwoLoginSourcesIsRefused: one realm, two users files:
// the configuration is refused, naming the file and line of each
// session_realm. A reload that gives the realm one login source (another
// than before) loads: neither the refused nor the running configuration's
// sites count against it.
func TestSessionRealmWithTwoLoginSourcesIsRefused(t *testing.T) {
	up := newUpstream(t)
	dbPath := storePath(t)
	a, b := siteURL("http", "a.localhost"), siteURL("http", "b.localhost")
	usersA, usersB := writeUsersFileOf(t, "alice"), writeUsersFileOf(t, "bob")
	config := func(fileA, fileB string) string {
		return globalOptions(dbPath, "") + fmt.Sprintf(`
%[1]s {
	trusted_endpoints {
		application site-a
		login users_file %[3]s
		session_realm corp
	}
	reverse_proxy %[5]s
}

%[2]s {
	trusted_endpoints {
		application site-b
		login users_file %[4]s
		session_realm corp
	}
	reverse_proxy %[5]s
}
`, a, b, fileA, fileB, up.hostPort())
	}
	startGateway(t, config(usersA, usersA))
	bad := config(usersA, usersB)
	err := loadCaddyfile(t, bad)
	if err == nil {
		t.Fatal("a realm with two login sources was loaded")
	}
	for _, want := range []string{
		`session_realm "corp"`, "the sites of one realm must share one login source", usersA, usersB,
		fmt.Sprintf("Caddyfile:%d", lineOf(t, bad, "session_realm corp", 1)),
		fmt.Sprintf("Caddyfile:%d", lineOf(t, bad, "session_realm corp", 2)),
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("load error lacks %q:\n%v", want, err)
		}
	}
	// The running configuration still serves.
	alice := newSiteBrowser(t, "")
	alice.signInAt(a, "alice", "/")
	before := alice.cookieAt(a, "tg_session")
	// Both sites move to B's users file: one source again, so it loads.
	if err := loadCaddyfile(t, config(usersB, usersB)); err != nil {
		t.Fatalf("reload with one login source: %v", err)
	}
	// A named realm is its name alone: its sessions hold across the change
	// of source (as documented; renaming the realm ends them).
	decodeUpstream(t, withCookie(t, a+"/", "tg_session", before, acceptHTML))
	bob := newSiteBrowser(t, "")
	bob.signInAt(b, "bob", "/")
	decodeUpstream(t, withCookie(t, a+"/", "tg_session", bob.cookieAt(b, "tg_session"), acceptHTML))
}
