package prompt

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
	"github.com/trustgate/trustgate/prompt/store/storetest"
)

func TestLogoutMakesCopiedCookieStopWorking(t *testing.T) {
	t.Parallel()
	gw := newRevocationGateway(t)
	alice := gw.signIn(t, "alice")
	thief := gw.copyOf(t, alice)
	if status, body := thief.get(t, gw.URL+"/app"); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
		t.Fatalf("copied cookie before sign-out: %d %s", status, body)
	}
	alice.logout(t, gw.URL, "/.trustgate/logout")

	resp := thief.request(t, http.MethodGet, gw.URL+"/app", "text/html")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "/.trustgate/login") {
		t.Errorf("copied cookie after sign-out: %d to %q, want a redirect to login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if !clearsSession(resp) {
		t.Errorf("the revoked cookie was not cleared: Set-Cookie %q", resp.Header.Values("Set-Cookie"))
	}
	if resp := thief.request(t, http.MethodGet, gw.URL+"/api", "application/json"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("copied cookie on the API after sign-out: %d, want 401", resp.StatusCode)
	}
	if s, _ := gw.revocations.Len(); s != 1 {
		t.Errorf("revocations hold %d sessions, want 1", s)
	}
	stored, err := gw.st.SessionRevocations(t.Context(), time.Now())
	if err != nil || len(stored.Sessions) != 1 {
		t.Errorf("stored revocations = %v, %v; want the session", stored.Sessions, err)
	}
}

func TestSignOutEverywhereEndsEverySessionOfThatUserOnly(t *testing.T) {
	t.Parallel()
	gw := newRevocationGateway(t)
	laptop, phoneBrowser, bob := gw.signIn(t, "alice"), gw.signIn(t, "alice"), gw.signIn(t, "bob")
	laptop.logout(t, gw.URL, "/.trustgate/logout/everywhere")
	if status, _ := phoneBrowser.get(t, gw.URL+"/app"); status != http.StatusFound {
		t.Errorf("alice's other session after sign out everywhere: %d, want a redirect to login", status)
	}
	if status, body := bob.get(t, gw.URL+"/app"); status != http.StatusOK || !strings.Contains(body, "upstream: bob") {
		t.Errorf("bob's session after alice signed out everywhere: %d %s", status, body)
	}
	// Signing in again, even within the same second, works.
	again := gw.signIn(t, "alice")
	if status, body := again.get(t, gw.URL+"/app"); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
		t.Errorf("alice's new session: %d %s", status, body)
	}
}

func TestSignOutEverywhereRefusesForeignForm(t *testing.T) {
	t.Parallel()
	gw := newRevocationGateway(t)
	alice := gw.signIn(t, "alice")
	resp := alice.post(t, gw.URL+"/.trustgate/logout/everywhere", url.Values{"csrf": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign out everywhere without the CSRF token: %d, want 403", resp.StatusCode)
	}
	if status, _ := alice.get(t, gw.URL+"/app"); status != http.StatusOK {
		t.Errorf("session after a refused sign-out: %d, want 200", status)
	}
}

func TestLogoutWithStorageDownStillSignsOut(t *testing.T) {
	t.Parallel()
	gw := newRevocationGateway(t)
	alice := gw.signIn(t, "alice")
	thief := gw.copyOf(t, alice)
	gw.st.Down.Store(true)
	alice.logout(t, gw.URL, "/.trustgate/logout")
	if status, _ := thief.get(t, gw.URL+"/app"); status != http.StatusFound {
		t.Errorf("copied cookie after sign-out with storage down: %d, want a redirect to login", status)
	}
	if gw.logs.FilterMessageSnippet("signing out").Len() != 1 {
		t.Errorf("no warning about the unstored revocation; logs: %v", gw.logs.All())
	}
	gw.st.Down.Store(false)
	if err := gw.revocations.Refresh(t.Context(), gw.st, time.Now()); err != nil {
		t.Fatal(err)
	}
	stored, err := gw.st.SessionRevocations(t.Context(), time.Now())
	if err != nil || len(stored.Sessions) != 1 {
		t.Errorf("stored revocations once storage is back = %v, %v; want the session", stored.Sessions, err)
	}
}

func openRevocationStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// revocationGateway is a gate without a device check in front of a tiny
// upstream; alice and bob sign in with password pw-<name>.
type revocationGateway struct {
	*httptest.Server
	st          *storetest.RevocationOutage
	revocations *session.Revocations
	logs        *observer.ObservedLogs
}

func newRevocationGateway(t *testing.T) *revocationGateway {
	t.Helper()
	st := &storetest.RevocationOutage{Store: openRevocationStore(t)}
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, user := range []string{"alice", "bob"} {
		hash, _ := bcrypt.GenerateFromPassword([]byte("pw-"+user), bcrypt.MinCost)
		entries = append(entries, fmt.Sprintf(`{"username":%q,"password_hash":%q}`, user, hash))
	}
	users, err := signin.ParseUsers([]byte(`{"users":[`+strings.Join(entries, ",")+`]}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.InfoLevel)
	revocations := session.NewRevocations()
	g, err := NewGate(Config{Application: "legacy", Users: users, Store: st, Cookies: codec, Revocations: revocations, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, handled := g.Authenticate(w, r); !handled {
			fmt.Fprintf(w, "upstream: %s", s.User)
		}
	}))
	t.Cleanup(srv.Close)
	return &revocationGateway{Server: srv, st: st, revocations: revocations, logs: logs}
}

// tab is a cookie-keeping client that does not follow redirects.
type tab struct {
	c *http.Client
}

func newTab() *tab {
	jar, _ := cookiejar.New(nil)
	return &tab{c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (gw *revocationGateway) signIn(t *testing.T, user string) *tab {
	t.Helper()
	b := newTab()
	_, page := b.get(t, gw.URL+"/.trustgate/login?return=/app")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no login form:\n%s", page)
	}
	resp := b.post(t, gw.URL+"/.trustgate/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {"pw-" + user}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing in %s: %d", user, resp.StatusCode)
	}
	return b
}

// copyOf returns a browser holding a copy of b's cookies, as someone who
// copied them would.
func (gw *revocationGateway) copyOf(t *testing.T, b *tab) *tab {
	t.Helper()
	u, _ := url.Parse(gw.URL)
	c := newTab()
	c.c.Jar.SetCookies(u, b.c.Jar.Cookies(u))
	return c
}

func (b *tab) request(t *testing.T, method, u, accept string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, u, nil)
	req.Header.Set("Accept", accept)
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func (b *tab) get(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *tab) post(t *testing.T, u string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// logout posts the sign-out page's form to path (logout or
// logout/everywhere).
func (b *tab) logout(t *testing.T, base, path string) {
	t.Helper()
	_, page := b.get(t, base+"/.trustgate/logout")
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no sign-out form:\n%s", page)
	}
	if resp := b.post(t, base+path, url.Values{"csrf": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signing out at %s: %d", path, resp.StatusCode)
	}
}

// clearsSession reports whether resp clears the session cookie.
func clearsSession(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if strings.TrimPrefix(c.Name, "__Host-") == session.CookieBase && c.MaxAge < 0 {
			return true
		}
	}
	return false
}
