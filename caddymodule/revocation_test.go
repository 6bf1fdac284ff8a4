package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// copyOf returns a new browser holding a copy of b's cookies for the
// gateway, as someone who copied the session cookie would.
func copyOf(t *testing.T, b *browser) *browser {
	t.Helper()
	u, _ := url.Parse(gateURL)
	c := newBrowser(t)
	c.client.Jar.SetCookies(u, b.client.Jar.Cookies(u))
	return c
}

// signOut posts the sign-out page's form to path: /.trustgate/logout or
// /.trustgate/logout/everywhere.
func (b *browser) signOut(path string) {
	b.t.Helper()
	page := b.get(gateURL + "/.trustgate/logout")
	if page.status != http.StatusOK {
		b.t.Fatalf("sign-out page: %d", page.status)
	}
	if r := b.postForm(gateURL+path, url.Values{"csrf": {formCSRF(b.t, page.body)}}); r.status != http.StatusSeeOther {
		b.t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
}

// refusedAsSignedOut checks that b's session no longer gets through: a
// page asks for login, an API call gets 401.
func refusedAsSignedOut(t *testing.T, who string, b *browser) {
	t.Helper()
	if r := b.get(gateURL + "/page"); r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		t.Errorf("%s: page answered %d to %q, want a redirect to login", who, r.status, r.location)
	}
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/api/items", nil)
	req.Header.Set("Accept", "application/json")
	if r := b.do(req); r.status != http.StatusUnauthorized {
		t.Errorf("%s: API answered %d, want 401", who, r.status)
	}
}

func TestCopiedCookieStopsWorkingAfterLogout(t *testing.T) {
	usersGateway(t, newUpstream(t), "")
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	thief := copyOf(t, b)
	decodeUpstream(t, thief.get(gateURL+"/before"))

	b.signOut("/.trustgate/logout")
	refusedAsSignedOut(t, "copied cookie after logout", thief)
	if thief.sessionCookie() != "" {
		t.Error("the revoked cookie was not cleared from the browser that sent it")
	}
}

func TestSignOutEverywhere(t *testing.T) {
	usersGateway(t, newUpstream(t), "")
	laptop, phone, bob := newBrowser(t), newBrowser(t), newBrowser(t)
	laptop.login("alice", gatetest.Users["alice"].Password, "/")
	phone.login("alice", gatetest.Users["alice"].Password, "/")
	bob.login("bob", gatetest.Users["bob"].Password, "/")

	phone.signOut("/.trustgate/logout/everywhere")
	refusedAsSignedOut(t, "alice's laptop", laptop)
	refusedAsSignedOut(t, "alice's phone", phone)
	if v := decodeUpstream(t, bob.get(gateURL+"/bob")); strings.Join(v.Headers["X-Placeholder-User"], ",") != "bob" {
		t.Errorf("bob's session after alice signed out everywhere reached the upstream as %q", v.Headers["X-Placeholder-User"])
	}
	// Alice signs in again, at once: the new session works.
	again := newBrowser(t)
	again.login("alice", gatetest.Users["alice"].Password, "/")
	decodeUpstream(t, again.get(gateURL+"/again"))
}

func TestAdminRevokesUserSessions(t *testing.T) {
	usersGateway(t, newUpstream(t), "")
	alice, bob := newBrowser(t), newBrowser(t)
	alice.login("alice", gatetest.Users["alice"].Password, "/")
	bob.login("bob", gatetest.Users["bob"].Password, "/")

	status, body := adminPost(t, "/trusted-endpoints/users/alice/sessions/revoke", "")
	if status != http.StatusOK || body["user"] != "alice" || body["revoked_before"] == nil {
		t.Fatalf("revoke: %d %v", status, body)
	}
	refusedAsSignedOut(t, "alice after the admin revoked her sessions", alice)
	decodeUpstream(t, bob.get(gateURL+"/bob"))

	resp, err := http.Get(adminURL + "/trusted-endpoints/users/alice/sessions/revoke")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET revoke: %d, want 405", resp.StatusCode)
	}
	if status, _ := adminPost(t, "/trusted-endpoints/users/alice/sessions", ""); status != http.StatusNotFound {
		t.Errorf("POST to an unknown user route: %d, want 404", status)
	}
}

// A second process on the same SQLite file has no events: its revocations
// arrive with the periodic refresh (every keyRefreshInterval), which this
// test runs at once instead of waiting for it.
func TestRevocationByAnotherProcessOnSQLiteArrivesWithRefresh(t *testing.T) {
	dbPath := usersGateway(t, newUpstream(t), "")
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	decodeUpstream(t, b.get(gateURL+"/before"))

	other, err := sqlitestore.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.RevokeUserSessions(t.Context(), "alice", time.Now(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	decodeUpstream(t, b.get(gateURL+"/not-yet")) // until the refresh
	runningState(t, dbPath).RefreshRevocations(t.Context())
	refusedAsSignedOut(t, "alice after the other process revoked her sessions", b)
}
