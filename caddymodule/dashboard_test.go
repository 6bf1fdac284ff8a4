package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/dashboard"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store"
)

// The dashboard's test site: another host on the test port, so that its
// sign-in (mode off) is separate from the device-checked site at gateURL.
// dashURL is set in TestMain, with the test port.
var dashURL string

const (
	dashHost = "127.0.0.1"
	// noGateHost serves the dashboard without the gateway before it.
	noGateHost = "nogate.test"
	// scriptModel is a device model that tries to inject a script.
	scriptModel = "<script>alert(1)</script>"
)

// dashboardGateway starts three sites on one store: gateURL, the
// application in mode block (alice, in pilot, checks her phone there);
// dashURL, the dashboard at /admin behind the gateway in mode off, for the
// group pilot (alice is an admin, bob is not); and noGateHost, a dashboard
// misconfigured without the gateway. It returns the shared state.
func dashboardGateway(t *testing.T) *sharedState {
	t.Helper()
	up := newUpstream(t)
	dbPath := storePath(t)
	users := gatetest.WriteUsersFile(t)
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%[1]d {
	trusted_endpoints {
		application legacy
		login users_file %[2]s
		mode block
		%[3]s
	}
	reverse_proxy %[4]s
}

http://%[5]s:%[1]d {
	trusted_endpoints {
		application dashboard
		login users_file %[2]s
	}
	trusted_endpoints_dashboard {
		admin_group pilot
		path_prefix /admin
	}
	reverse_proxy %[4]s
}

http://%[6]s:%[1]d {
	trusted_endpoints_dashboard {
		admin_group pilot
	}
	respond "no dashboard" 404
}
`, httpPort, users, pilotMobile, up.hostPort(), dashHost, noGateHost))
	return runningState(t, dbPath)
}

// dashLogin signs user in on the dashboard site and returns the browser.
func dashLogin(t *testing.T, user string) *browser {
	t.Helper()
	b := newBrowser(t)
	r := b.get(dashURL + "/admin/")
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		t.Fatalf("dashboard before sign-in: %d → %q, want the login page", r.status, r.location)
	}
	r = b.get(dashURL + r.location)
	r = b.postForm(dashURL+"/.trustgate/login", url.Values{
		"csrf": {formCSRF(t, r.body)}, "username": {user}, "password": {gatetest.Users[user].Password},
	})
	if r.status != http.StatusSeeOther || r.location != "/admin/" {
		t.Fatalf("sign-in: %d → %q", r.status, r.location)
	}
	return b
}

func TestDashboardRefusesNonAdmins(t *testing.T) {
	dashboardGateway(t)
	// Nobody signed in: the gateway asks for a login, nothing leaks.
	r := newBrowser(t).get(dashURL + "/admin/endpoints")
	if r.status != http.StatusFound || strings.Contains(r.body, "<table") {
		t.Fatalf("anonymous: %d %q", r.status, r.location)
	}
	bob := dashLogin(t, "bob")
	for _, path := range []string{"/admin/", "/admin/endpoints", "/admin/auth-log", "/admin/impact", "/admin/endpoints/x", "/admin/auth-log.csv"} {
		r := bob.get(dashURL + path)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "for administrators") || strings.Contains(r.body, "<table") {
			t.Errorf("bob GET %s: %d\n%s", path, r.status, r.body)
		}
	}
	r = bob.postForm(dashURL+"/admin/endpoints/x/revoke", url.Values{"csrf": {"x"}})
	if r.status != http.StatusForbidden {
		t.Errorf("bob POST revoke: %d", r.status)
	}
	// Outside the prefix the site goes on to its upstream.
	if r := bob.get(dashURL + "/elsewhere"); r.status != http.StatusOK || !strings.Contains(r.body, `"path":"/elsewhere"`) {
		t.Errorf("outside the dashboard: %d %s", r.status, r.body)
	}
	// alice, in pilot, gets in; every page is private and strict.
	alice := dashLogin(t, "alice")
	r = alice.get(dashURL + "/admin/")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="chart-logins"`) {
		t.Fatalf("alice GET /admin/: %d\n%s", r.status, r.body)
	}
	for name, want := range map[string]string{
		"Content-Security-Policy": dashboard.CSP,
		"Cache-Control":           "no-store",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if strings.Contains(r.body, "<script") {
		t.Errorf("the dashboard has a script element")
	}
}

func TestDashboardWithoutGatewayRefuses(t *testing.T) {
	dashboardGateway(t)
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/endpoints", nil)
	req.Host = noGateHost
	// A forged identity header changes nothing: the dashboard reads the
	// gateway's session from the request context only.
	req.Header.Set("X-Trustgate-User", "alice")
	req.Header.Set("X-Trustgate-Groups", "pilot")
	r := newBrowser(t).do(req)
	if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "misconfigured") || strings.Contains(r.body, "<table") {
		t.Fatalf("dashboard without the gateway: %d\n%s", r.status, r.body)
	}
}

// revokeForm opens a device's confirmation page and returns its CSRF
// token and form action.
func revokeForm(t *testing.T, b *browser, id string) string {
	t.Helper()
	r := b.get(dashURL + "/admin/endpoints/" + url.PathEscape(id) + "/revoke")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="confirm-revoke"`) {
		t.Fatalf("confirmation page: %d\n%s", r.status, r.body)
	}
	return formCSRF(t, r.body)
}

func TestDashboardRevokeNeedsTheSessionsCSRFToken(t *testing.T) {
	st := dashboardGateway(t)
	phone, dev := trustedSession(t, "/app")
	id := dev.DeviceID()
	alice := dashLogin(t, "alice")
	csrf := revokeForm(t, alice, id)
	revokeURL := dashURL + "/admin/endpoints/" + url.PathEscape(id) + "/revoke"

	// Another admin session's token does not do: the token is tied to
	// the session.
	other := dashLogin(t, "alice")
	otherCSRF := revokeForm(t, other, id)
	if otherCSRF == csrf {
		t.Fatal("two sessions share a CSRF token")
	}
	foreign, _ := http.NewRequest(http.MethodPost, revokeURL, strings.NewReader(url.Values{"csrf": {csrf}}.Encode()))
	foreign.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	foreign.Header.Set("Origin", "https://evil.example")
	for name, r := range map[string]response{
		"no token":               alice.postForm(revokeURL, url.Values{}),
		"wrong token":            alice.postForm(revokeURL, url.Values{"csrf": {"AAAA" + csrf[4:]}}),
		"other session's token":  alice.postForm(revokeURL, url.Values{"csrf": {otherCSRF}}),
		"right token, elsewhere": alice.do(foreign),
	} {
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Revocation refused") {
			t.Errorf("%s: %d\n%s", name, r.status, r.body)
		}
	}
	if d, err := st.Store().Device(context.Background(), id); err != nil || !d.Active() {
		t.Fatalf("device after refused revocations: %+v %v", d, err)
	}
	// The phone's session still gets through.
	decodeUpstream(t, phone.get(gateURL+"/app"))

	r := alice.postForm(revokeURL, url.Values{"csrf": {csrf}})
	if r.status != http.StatusSeeOther || r.location != "/admin/endpoints/"+url.PathEscape(id)+"?revoked=1" {
		t.Fatalf("revoke: %d → %q\n%s", r.status, r.location, r.body)
	}
	r = alice.get(dashURL + r.location)
	if !strings.Contains(r.body, "Device revoked.") || !regexp.MustCompile(`id="device-status"><span class="badge bad">revoked`).MatchString(r.body) {
		t.Errorf("device page after revocation:\n%s", r.body)
	}
	// Exactly as the admin API's revocation: the session the device
	// vouched for is checked again on its very next request.
	if r := phone.get(gateURL + "/app"); r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("phone after revocation: %d → %q, want the prompt", r.status, r.location)
	}
	if _, err := dev.Device(context.Background()); agent.ErrorCode(err) != "revoked_device" {
		t.Errorf("revoked device's request: %v", err)
	}
}

func TestDashboardEscapesDeviceAndUserText(t *testing.T) {
	st := dashboardGateway(t)
	dev := newDevice(t, "bob", agent.DeviceInfo{Platform: "ios", Model: scriptModel, OSVersion: "17.4", AppVersion: "1.0.0"})
	seedAuthLog(t, st.Store(), store.AuthLogEntry{
		Time: time.Now(), User: `<img src=x onerror=alert(2)>`, Application: "legacy", Result: store.ResultDenied,
		Reason: `"><script>alert(3)</script>`, UserAgent: scriptModel, TrustStatus: "not trusted",
		AccessDevice: store.AccessDevice{OS: scriptModel},
	})
	alice := dashLogin(t, "alice")
	for _, path := range []string{"/admin/endpoints", "/admin/endpoints/" + url.PathEscape(dev.DeviceID()), "/admin/endpoints/" + url.PathEscape(dev.DeviceID()) + "/revoke", "/admin/auth-log", "/admin/"} {
		r := alice.get(dashURL + path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, r.status, r.body)
		}
		if strings.Contains(r.body, "<script") || strings.Contains(r.body, "<img") {
			t.Errorf("GET %s: device- or user-supplied markup unescaped:\n%s", path, r.body)
		}
		if !strings.Contains(r.body, "&lt;script&gt;alert(") && !strings.Contains(r.body, "&lt;img src=x") {
			t.Errorf("GET %s: the escaped text is missing:\n%s", path, r.body)
		}
	}
}

// seedDevices stores n devices: alternately android (versions 10 to 14)
// and ios (15 to 18), every third never reported, the others trusted or
// not in turn. Their IDs are dev-000, dev-001, ...
func seedDevices(t *testing.T, st store.Store, n int, at time.Time) {
	t.Helper()
	for i := range n {
		id := fmt.Sprintf("dev-%03d", i)
		platform, version := "android", fmt.Sprint(10+i%5)
		if i%2 == 1 {
			platform, version = "ios", fmt.Sprintf("%d.%d", 15+i%4, i%3)
		}
		err := st.CreateDevice(context.Background(), store.Device{
			ID: id, User: fmt.Sprintf("user%02d", i%7), PublicKey: json.RawMessage(`{"kty":"EC"}`), Platform: platform,
			Model: fmt.Sprintf("Model %d", i), OSVersion: version, Created: at, LastSeen: at.Add(time.Duration(i) * time.Minute),
		})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			verdict := policy.Trusted
			if i%3 == 2 {
				verdict = policy.NotTrusted
			}
			reportHealth(t, st, id, policy.Facts{Platform: policy.Platform(platform), OSVersion: version}, verdict, at.Add(time.Duration(i)*time.Minute))
		}
	}
}

// seedLogins appends logins over the last days: trusted, not trusted
// (denied for a failed requirement or let in as would-block) and unknown.
func seedLogins(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	var entries []store.AuthLogEntry
	for day := 13; day >= 0; day-- {
		at := now.Add(-time.Duration(day)*24*time.Hour - time.Hour)
		for i := range 1 + (13-day)%5 {
			entries = append(entries, store.AuthLogEntry{Time: at, User: fmt.Sprintf("user%02d", i), Groups: []string{"staff"}, Application: "legacy",
				Result: store.ResultSuccess, Reason: "user_approved", Factor: "mobile_inline", TrustStatus: "trusted",
				AccessDevice: store.AccessDevice{Kind: "android_phone", OS: "Android", OSVersion: "14"}})
		}
		if day%2 == 0 {
			entries = append(entries, store.AuthLogEntry{Time: at, User: "user03", Application: "legacy", Result: store.ResultDenied,
				Reason: "endpoint_is_not_trusted", TrustStatus: "not trusted", Mode: "block", FailedRequirements: []string{"no_screen_lock"},
				AccessDevice: store.AccessDevice{Kind: "iphone", OS: "iOS", OSVersion: "16.7"}})
		}
		if day%3 == 0 {
			entries = append(entries, store.AuthLogEntry{Time: at, User: "user04", Groups: []string{"pilot"}, Application: "wiki", Result: store.ResultSuccess,
				Reason: "user_approved", TrustStatus: "not trusted", Mode: "check", WouldBlock: true, FailedRequirements: []string{"out_of_date"},
				AccessDevice: store.AccessDevice{Kind: "android_phone", OS: "Android", OSVersion: "12"}})
			entries = append(entries, store.AuthLogEntry{Time: at, User: "user05", Application: "legacy", Result: store.ResultDenied,
				Reason: "invalid_password", Factor: "password"})
		}
		if day%4 == 1 {
			entries = append(entries, store.AuthLogEntry{Time: at, User: "user06", Application: "wiki", Result: store.ResultSuccess,
				Reason: "device_check_not_enabled", TrustStatus: "unknown", Mode: "check", WouldBlock: true})
		}
	}
	seedAuthLog(t, st, entries...)
}

// rowsOf returns the data-device (or data-entry) attributes of a page's
// table rows, in order.
func rowsOf(body, attr string) []string {
	var out []string
	for _, m := range regexp.MustCompile(attr+`="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

var nextPageLink = regexp.MustCompile(`<a href="([^"]+)" rel="next"`)

func TestDashboardEndpointsFilterSortAndPage(t *testing.T) {
	st := dashboardGateway(t)
	seedDevices(t, st.Store(), 60, time.Now().Add(-48*time.Hour))
	if err := st.Store().RevokeDevice(context.Background(), "dev-000", time.Now()); err != nil {
		t.Fatal(err)
	}
	alice := dashLogin(t, "alice")
	get := func(query string) string {
		t.Helper()
		r := alice.get(dashURL + "/admin/endpoints?" + query)
		if r.status != http.StatusOK {
			t.Fatalf("endpoints?%s: %d\n%s", query, r.status, r.body)
		}
		return r.body
	}

	// Sorted by ID: 59 active devices, 50 on the first page, the rest on
	// the next, none twice.
	page := get("sort=last_seen&dir=asc")
	first := rowsOf(page, "data-device")
	if len(first) != 50 || first[0] != "dev-001" || first[49] != "dev-050" {
		t.Fatalf("first page: %d rows %v", len(first), first)
	}
	m := nextPageLink.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no next page link")
	}
	second := rowsOf(get(strings.TrimPrefix(htmlUnescape(m[1]), "/admin/endpoints?")), "data-device")
	if len(second) != 9 || second[0] != "dev-051" || second[8] != "dev-059" {
		t.Fatalf("second page: %v", second)
	}
	// Descending last seen puts the newest first; revoked ones on request.
	if rows := rowsOf(get("sort=last_seen&dir=desc&include_revoked=on"), "data-device"); len(rows) != 50 || rows[0] != "dev-059" {
		t.Errorf("last seen, newest first: %v", rows)
	}
	cases := []struct {
		query string
		want  func(i int) bool
	}{
		{"platform=android", func(i int) bool { return i%2 == 0 && i != 0 }},
		{"platform=ios&trusted=true", func(i int) bool { return i%2 == 1 && i%3 == 1 }},
		{"trusted=false", func(i int) bool { return i%3 != 1 && i != 0 }},
		{"os_older_than=android:12", func(i int) bool { return i%2 == 0 && 10+i%5 < 12 && i != 0 }},
		{"platform=ios&os_older_than=16", func(i int) bool { return i%2 == 1 && 15+i%4 < 16 }},
		{"user=user03", func(i int) bool { return i%7 == 3 }},
	}
	for _, c := range cases {
		got := rowsOf(get(c.query+"&sort=last_seen"), "data-device")
		var want []string
		for i := range 60 {
			if c.want(i) {
				want = append(want, fmt.Sprintf("dev-%03d", i))
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: got %v, want %v", c.query, got, want)
		}
	}
	// Sorting by OS version compares versions, not strings.
	rows := rowsOf(get("platform=android&sort=os&dir=desc"), "data-device")
	if len(rows) == 0 || rows[0] != "dev-004" {
		t.Errorf("android by OS version, newest first: %v", rows)
	}
	r := alice.get(dashURL + "/admin/endpoints?os_older_than=17")
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "os_older_than") {
		t.Errorf("bad filter: %d\n%s", r.status, r.body)
	}
}

func TestDashboardAuthLogFiltersPagesAndExports(t *testing.T) {
	st := dashboardGateway(t)
	now := time.Now().UTC()
	seedLogins(t, st.Store(), now)
	var many []store.AuthLogEntry
	for i := range 55 {
		many = append(many, store.AuthLogEntry{Time: now.Add(-time.Duration(i) * time.Minute), User: "carol", Application: "crm",
			Result: store.ResultSuccess, Reason: "valid_password", Factor: "password"})
	}
	seedAuthLog(t, st.Store(), many...)
	alice := dashLogin(t, "alice")
	r := alice.get(dashURL + "/admin/auth-log?user=carol")
	first := rowsOf(r.body, "data-entry")
	m := nextPageLink.FindStringSubmatch(r.body)
	if len(first) != 50 || m == nil {
		t.Fatalf("carol's first page: %d rows, next %v", len(first), m)
	}
	r = alice.get(dashURL + htmlUnescape(m[1]))
	if second := rowsOf(r.body, "data-entry"); len(second) != 5 || nextPageLink.MatchString(r.body) {
		t.Fatalf("carol's second page: %v", second)
	}
	r = alice.get(dashURL + "/admin/auth-log?result=denied&reason=endpoint_is_not_trusted")
	if rows := rowsOf(r.body, "data-entry"); len(rows) != 7 {
		t.Errorf("denied for an untrusted device: %d rows", len(rows))
	}
	r = alice.get(dashURL + "/admin/auth-log?would_block=true&application=wiki&since=" + now.Add(-7*24*time.Hour).Format("2006-01-02"))
	if rows := rowsOf(r.body, "data-entry"); len(rows) == 0 || len(rows) > 8 {
		t.Errorf("would-block in wiki last week: %d rows", len(rows))
	}
	if r := alice.get(dashURL + "/admin/auth-log?result=maybe"); r.status != http.StatusBadRequest {
		t.Errorf("bad result filter: %d", r.status)
	}
	r = alice.get(dashURL + "/admin/auth-log.csv?user=carol")
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || len(lines) != 56 || !strings.HasPrefix(lines[0], "id,time,user") {
		t.Errorf("CSV export: %d %s, %d lines", r.status, r.header.Get("Content-Type"), len(lines))
	}
	// The overview's charts, by the hour over two days.
	r = alice.get(dashURL + "/admin/?window=48h")
	if r.status != http.StatusOK || strings.Count(r.body, `class="trusted"`) < 2 || !strings.Contains(r.body, "hour (UTC)") {
		t.Errorf("overview by the hour: %d\n%s", r.status, r.body)
	}
	// Rollout impact from the same log.
	r = alice.get(dashURL + "/admin/impact?application=wiki")
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="impact-logins">`) || !strings.Contains(r.body, "out_of_date") {
		t.Errorf("impact: %d\n%s", r.status, r.body)
	}
}

func htmlUnescape(s string) string { return strings.ReplaceAll(s, "&amp;", "&") }

// TestDashboardDirectiveRunsAfterTheGate adapts a site that writes the
// dashboard before the gateway: the dashboard's handler must still come
// after the gateway's, whichever of the two packages Go initialised first
// (this test binary imports package admin, so it is initialised before
// caddymodule).
func TestDashboardDirectiveRunsAfterTheGate(t *testing.T) {
	adapted, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(`http://example.com {
	trusted_endpoints_dashboard {
		admin_group admins
	}
	reverse_proxy localhost:8080
	trusted_endpoints {
		login users_file /dev/null
	}
}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	gate := strings.Index(string(adapted), `"handler":"trusted_endpoints"`)
	dash := strings.Index(string(adapted), `"handler":"trusted_endpoints_dashboard"`)
	proxy := strings.Index(string(adapted), `"handler":"reverse_proxy"`)
	if gate < 0 || dash < gate || proxy < dash {
		t.Errorf("handler order: gate %d, dashboard %d, proxy %d in\n%s", gate, dash, proxy, adapted)
	}
}

// Every field a device supplies (model, OS and app versions, each health
// fact, the access device's user agent and OS) is shown as text on every
// dashboard page, even when it was stored unvalidated. Each field carries
// its own marker so that a field that slips through is named.
func TestDashboardEscapesEveryDeviceSuppliedField(t *testing.T) {
	st := dashboardGateway(t)
	mark := func(field string) string { return "<x-" + field + ">" }
	now := time.Now()
	err := st.Store().CreateDevice(context.Background(), store.Device{
		ID: "dev-markup", User: "bob", PublicKey: json.RawMessage(`{"kty":"EC"}`), Platform: "android",
		Model: mark("model"), OSVersion: mark("os-version"), AppVersion: mark("app-version"), Created: now, LastSeen: now,
	})
	if err != nil {
		t.Fatal(err)
	}
	facts := map[string]any{
		"platform": "android", "os_version": mark("fact-os-version"), "security_patch": mark("fact-patch"),
		"app_version": mark("fact-app-version"), "model": mark("fact-model"), "screen_lock": true,
	}
	raw, _ := json.Marshal(facts)
	if err := st.Store().RecordHealth(context.Background(), "dev-markup", raw, string(policy.NotTrusted), now); err != nil {
		t.Fatal(err)
	}
	seedAuthLog(t, st.Store(), store.AuthLogEntry{
		Time: now, User: "bob", Application: "legacy", Result: store.ResultDenied, Reason: "endpoint_is_not_trusted",
		TrustStatus: "not trusted", DeviceID: "dev-markup", DeviceFacts: raw, UserAgent: mark("user-agent"),
		FailedRequirements: []string{mark("failed")}, Warnings: []string{mark("warning")},
		AccessDevice: store.AccessDevice{Kind: "android_phone", OS: mark("access-os"), OSVersion: mark("access-os-version"), Browser: mark("browser")},
	})
	alice := dashLogin(t, "alice")
	for _, path := range []string{
		"/admin/", "/admin/endpoints", "/admin/endpoints?include_revoked=true&sort=model",
		"/admin/endpoints/dev-markup", "/admin/endpoints/dev-markup/revoke", "/admin/auth-log", "/admin/auth-log?user=bob", "/admin/impact",
	} {
		r := alice.get(dashURL + path)
		if r.status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, r.status, r.body)
		}
		if i := strings.Index(r.body, "<x-"); i >= 0 {
			end := min(len(r.body), i+30)
			t.Errorf("GET %s: device-supplied markup unescaped: %q", path, r.body[i:end])
		}
	}
	r := alice.get(dashURL + "/admin/endpoints/dev-markup")
	for _, field := range []string{"model", "app-version", "fact-os-version", "fact-patch", "fact-model"} {
		if !strings.Contains(r.body, "&lt;x-"+field+"&gt;") {
			t.Errorf("device page does not show the %s as text", field)
		}
	}
}
