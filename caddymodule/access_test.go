package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// accessGateway starts a gateway protecting up with the test users file and
// the given allow lines (and other settings) inside trusted_endpoints.
func accessGateway(t *testing.T, up *upstream, settings string) {
	t.Helper()
	accessGatewayAt(t, storePath(t), gatetest.WriteUsersFile(t), up, settings)
}

// accessGatewayAt is accessGateway with a given store and users file, so
// that a reload keeps the cookie keys and so the sessions.
func accessGatewayAt(t *testing.T, dbPath, usersFile string, up *upstream, settings string) {
	t.Helper()
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		%s
	}
	reverse_proxy %s {
		header_up X-Placeholder-User {trusted_endpoints.user}
	}
}
`, httpPort, usersFile, settings, up.hostPort()))
}

// apiGet sends an API client's request (no text/html) with b's cookies.
func (b *browser) apiGet(rawURL string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	return b.do(req)
}

// wantForbiddenPage checks that r is the gateway's 403 page for the
// application legacy, offering to sign out.
func wantForbiddenPage(t *testing.T, r response, user string) {
	t.Helper()
	if r.status != http.StatusForbidden {
		t.Fatalf("status %d, want 403; body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want an HTML page", ct)
	}
	for _, want := range []string{"legacy", "signed in as <strong>" + user + "</strong>", "Ask the administrator of legacy", `action="/.trustgate/logout"`, `name="csrf"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("403 page lacks %q:\n%s", want, r.body)
		}
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q, want no-store", cc)
	}
}

func TestAllowGroupsLetsPilotInAndRefusesOthers(t *testing.T) {
	up := newUpstream(t)
	accessGateway(t, up, "allow groups pilot")

	alice := newBrowser(t)
	back := alice.login("alice", gatetest.Users["alice"].Password, "/reports")
	v := decodeUpstream(t, alice.get(gateURL+back))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Errorf("X-Trustgate-User = %q, want alice", got)
	}
	if got := v.Headers["X-Placeholder-User"]; len(got) != 1 || got[0] != "alice" {
		t.Errorf("placeholder user = %q, want alice", got)
	}
	hits := up.Hits()

	bob := newBrowser(t)
	back = bob.login("bob", gatetest.Users["bob"].Password, "/reports?q=1")
	if back != "/reports?q=1" {
		t.Fatalf("refused person's login went to %q, want back to the page (which answers 403)", back)
	}
	r := bob.get(gateURL + back)
	wantForbiddenPage(t, r, "bob")

	// An API client gets JSON.
	r = bob.apiGet(gateURL + "/api/items")
	if r.status != http.StatusForbidden {
		t.Fatalf("API client: status %d, want 403", r.status)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil || body["error"] != "not authorized" || body["application"] != "legacy" {
		t.Errorf("API client body %q, want {error: not authorized, application: legacy}", r.body)
	}
	// Another login goes nowhere else: back to the 403, not a loop.
	r = bob.get(gateURL + "/.trustgate/login?return=%2Freports")
	if r.status != http.StatusSeeOther || r.location != "/reports" {
		t.Errorf("login page of a refused person: %d %q, want a redirect back", r.status, r.location)
	}
	if up.Hits() != hits {
		t.Errorf("the upstream saw %d refused requests", up.Hits()-hits)
	}

	// The page's sign-out works, so bob can switch account.
	page := bob.get(gateURL + "/reports")
	r = bob.postForm(gateURL+"/.trustgate/logout", url.Values{"csrf": {formCSRF(t, page.body)}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("sign-out from the 403 page: %d %s", r.status, r.body)
	}
	if r = bob.get(gateURL + "/reports"); r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		t.Errorf("after sign-out: %d %q, want the login redirect", r.status, r.location)
	}
}

func TestAllowUsersEmailsAndDomains(t *testing.T) {
	tests := []struct {
		name         string
		settings     string
		alice, bobIn bool
	}{
		{"no allow lets everyone in", "", true, true},
		{"users", "allow users bob", false, true},
		{"users match exactly", "allow users Bob", false, false},
		{"email, any case", "allow emails BOB@Example.COM", false, true},
		{"domain", "allow emails *@example.com", true, true},
		{"domain leaves out look-alikes", "allow emails *@ample.com *@mail.example.com *@example.co", false, false},
		{"several lines: any one", "allow users carol\n\t\tallow groups pilot\n\t\tallow emails bob@example.com", true, true},
		{"several values on a line", "allow users carol bob", false, true},
		{"groups of another", "allow groups staff", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newUpstream(t)
			accessGateway(t, up, tt.settings)
			for user, want := range map[string]bool{"alice": tt.alice, "bob": tt.bobIn} {
				b := newBrowser(t)
				back := b.login(user, gatetest.Users[user].Password, "/x")
				r := b.get(gateURL + back)
				if want {
					v := decodeUpstream(t, r)
					if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != user {
						t.Errorf("%s: upstream user header %q", user, got)
					}
				} else {
					wantForbiddenPage(t, r, user)
				}
			}
		})
	}
}

func TestAccessRefusedPersonIsNeverSentToTheDeviceCheck(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", "allow groups pilot\n\t\tmobile {\n\t\t\tenable all\n\t\t}")

	// bob is refused: his login goes back to the page, which is a 403, not
	// the device prompt; no login request is made for him. Both use a
	// phone, which the device check would otherwise check.
	bob := newPhoneBrowser(t, gatetest.AndroidUA)
	back := bob.login("bob", gatetest.Users["bob"].Password, "/reports")
	if back != "/reports" {
		t.Fatalf("refused person's login went to %q, want back to /reports (not the device prompt)", back)
	}
	wantForbiddenPage(t, bob.get(gateURL+back), "bob")
	if r := bob.get(gateURL + "/.trustgate/verify"); r.status == http.StatusOK && strings.Contains(r.body, "Check your device") {
		t.Errorf("the refused person reached the device prompt:\n%s", r.body)
	}
	entries := authLog(t, "user=bob")
	if len(entries) != 1 || entries[0].Result != "denied" || entries[0].Reason != "not_authorized" || entries[0].Mode != "" || entries[0].DeviceID != "" {
		t.Errorf("auth log of bob: %+v, want one denied not_authorized entry and no device check", entries)
	}

	// The control: alice, who may enter, is sent to the device check.
	alice := newPhoneBrowser(t, gatetest.AndroidUA)
	if back := alice.login("alice", gatetest.Users["alice"].Password, "/reports"); back != "/.trustgate/verify" {
		t.Fatalf("alice's login went to %q, want the device prompt", back)
	}
	if up.Hits() != 0 {
		t.Errorf("the upstream was reached %d times", up.Hits())
	}
}

func TestAccessRefusalIsLoggedOncePerSession(t *testing.T) {
	up := newUpstream(t)
	accessGateway(t, up, "allow users alice")
	b := newBrowser(t)
	b.login("bob", gatetest.Users["bob"].Password, "/")
	for i := range 5 {
		if r := b.get(gateURL + fmt.Sprintf("/page/%d", i)); r.status != http.StatusForbidden {
			t.Fatalf("request %d: %d, want 403", i, r.status)
		}
	}
	b.apiGet(gateURL + "/api")
	entries := authLog(t, "user=bob")
	if len(entries) != 1 || entries[0].Result != "denied" || entries[0].Reason != "not_authorized" || entries[0].Application != "legacy" {
		t.Fatalf("auth log after a refused login and 6 refused requests: %+v, want one not_authorized entry", entries)
	}

	// Another session (a new sign-in) is logged once more.
	other := newBrowser(t)
	other.login("bob", gatetest.Users["bob"].Password, "/")
	other.get(gateURL + "/")
	if entries := authLog(t, "user=bob"); len(entries) != 2 {
		t.Errorf("auth log after a second session: %d entries, want 2", len(entries))
	}
	if up.Hits() != 0 {
		t.Errorf("the upstream saw %d refused requests", up.Hits())
	}
}

// TestAccessRefusalOfACookieNotLoggedHereIsLoggedOnce covers a session this
// instance never refused before (it signed in elsewhere, or before a
// restart or a change of the rules): its first refused request is logged,
// the next ones are not.
func TestAccessRefusalOfACookieNotLoggedHereIsLoggedOnce(t *testing.T) {
	up := newUpstream(t)
	dbPath, usersFile := storePath(t), gatetest.WriteUsersFile(t)
	accessGatewayAt(t, dbPath, usersFile, up, "")
	b := newBrowser(t)
	b.login("bob", gatetest.Users["bob"].Password, "/")
	decodeUpstream(t, b.get(gateURL+"/"))
	// The rules change; bob's session stays.
	accessGatewayAt(t, dbPath, usersFile, up, "allow groups pilot")
	for range 5 {
		if r := b.get(gateURL + "/"); r.status != http.StatusForbidden {
			t.Fatalf("status %d, want 403", r.status)
		}
	}
	var refusals int
	for _, e := range authLog(t, "user=bob") {
		if e.Reason == "not_authorized" {
			refusals++
		}
	}
	if refusals != 1 {
		t.Errorf("%d not_authorized entries for 5 refused requests of one session, want 1", refusals)
	}
}

func TestAccessContactIsShownOnTheRefusal(t *testing.T) {
	for contact, want := range map[string]string{
		"it-help@example.com":         `<a href="mailto:it-help@example.com">it-help@example.com</a>`,
		"the help desk, extension 42": "contact the help desk, extension 42.",
	} {
		up := newUpstream(t)
		accessGateway(t, up, "allow users alice\n\t\taccess_contact "+contact)
		b := newBrowser(t)
		r := b.get(gateURL + b.login("bob", gatetest.Users["bob"].Password, "/"))
		if r.status != http.StatusForbidden || !strings.Contains(r.body, want) {
			t.Errorf("access_contact %q: %d, want a 403 page with %q:\n%s", contact, r.status, want, r.body)
		}
	}
}

func TestAllowDirectiveErrorsNameFileAndLine(t *testing.T) {
	cases := map[string]string{
		"allow without arguments": "trusted_endpoints {\n login users_file u\n allow\n}",
		"allow unknown kind":      "trusted_endpoints {\n login users_file u\n allow roles admin\n}",
		"allow users no names":    "trusted_endpoints {\n login users_file u\n allow users\n}",
		"allow groups no names":   "trusted_endpoints {\n login users_file u\n allow groups\n}",
		"allow emails no address": "trusted_endpoints {\n login users_file u\n allow emails\n}",
		"allow emails *@":         "trusted_endpoints {\n login users_file u\n allow emails *@\n}",
		"allow emails @x":         "trusted_endpoints {\n login users_file u\n allow emails @x\n}",
		"allow emails a@*":        "trusted_endpoints {\n login users_file u\n allow emails a@*\n}",
		"allow emails subdomains": "trusted_endpoints {\n login users_file u\n allow emails *@*.example.com\n}",
		"allow emails no @":       "trusted_endpoints {\n login users_file u\n allow emails example.com\n}",
		"allow emails second bad": "trusted_endpoints {\n login users_file u\n allow emails a@example.com b@@example.com\n}",
		"access_contact no text":  "trusted_endpoints {\n login users_file u\n access_contact\n}",
		"access_contact twice":    "trusted_endpoints {\n login users_file u\n access_contact a\n access_contact b\n}",
	}
	refusedWithFileLine(t, cases)

	var h Handler
	input := "trusted_endpoints {\n login users_file u\n allow users alice\n allow groups pilot ops\n allow emails Carol@Example.com *@example.org\n allow users dave\n access_contact IT help desk\n}"
	if err := h.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input)); err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(map[string]any{"allow": h.Allow, "access_contact": h.AccessContact})
	want := `{"access_contact":"IT help desk","allow":{"users":["alice","dave"],"groups":["pilot","ops"],"emails":["Carol@Example.com","*@example.org"]}}`
	if string(got) != want {
		t.Errorf("parsed %s\nwant   %s", got, want)
	}
}

func TestAllowJSONThatNamesNoOneIsRefused(t *testing.T) {
	for _, allow := range []string{`{}`, `{"emails":["a@*"]}`, `{"users":[""]}`} {
		var h Handler
		if err := json.Unmarshal([]byte(`{"allow":`+allow+`}`), &h); err != nil {
			t.Fatal(err)
		}
		if err := h.Validate(); err == nil {
			t.Errorf("Validate accepted allow %s", allow)
		}
	}
}

func TestAllowAppliesToOIDCSignIns(t *testing.T) {
	p := startProvider(t)
	for allow, want := range map[string]int{
		"allow emails *@EXAMPLE.com":                     http.StatusOK,
		"allow emails *@example.org":                     http.StatusForbidden,
		"allow groups engineering":                       http.StatusOK,
		"allow groups Engineering\n\t\tallow users Jane": http.StatusForbidden,
	} {
		t.Run(allow, func(t *testing.T) {
			up := newUpstream(t)
			startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login oidc {
			issuer        %s
			client_id     %s
			client_secret %s
			scopes        openid profile email groups
		}
		%s
	}
	reverse_proxy %s
}
`, httpPort, p.Issuer(), oidcClientID, oidcClientSecret, allow, up.hostPort()))
			p.queueUser(oidcUser)
			b := newBrowser(t)
			r := b.get(b.oidcStart("/dashboard?tab=2"))
			if r.status != http.StatusSeeOther || r.location != "/dashboard?tab=2" {
				t.Fatalf("callback: %d location %q, want back to the page", r.status, r.location)
			}
			r = b.get(gateURL + r.location)
			if r.status != want {
				t.Fatalf("after sign-in: %d, want %d\n%s", r.status, want, r.body)
			}
			if want == http.StatusForbidden {
				wantForbiddenPage(t, r, "jane")
				if e := authLog(t, "user=jane"); len(e) != 1 || e[0].Reason != "not_authorized" || e[0].Factor != "oidc" {
					t.Errorf("auth log of jane: %+v, want one not_authorized entry", e)
				}
			}
		})
	}
}
