package prompt

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
	"github.com/trustgate/trustgate/prompt/web"
)

// answerKind says which hardening headers an answer of the gateway must
// carry.
type answerKind int

const (
	// page is an HTML page: the page policy, never stored.
	page answerKind = iota
	// plain is a JSON answer or a redirect: a policy that loads nothing,
	// never stored.
	plain
	// static is a fixed file: may be cached, still not sniffed or framed.
	static
)

// routeStep is one request of the walk. Steps run in order on one browser
// (cookie jar), so a step can rely on the cookies of the steps before it.
type routeStep struct {
	name   string
	method string
	path   string
	// header is added to the request; Accept defaults to text/html and
	// User-Agent to an Android phone's browser.
	header map[string]string
	// form, when set, is posted as a form; csrf is filled in from the
	// last page that had one. body, when set, is the raw body.
	form url.Values
	body []byte
	kind answerKind
	// status is the status the step must get.
	status int
}

// hardeningSite is a gate with every feature that serves a route: users
// login, device check (mode check, enrollment), app links, the upstream
// assertion's key set and a limiter.
func hardeningSite(t *testing.T) *Gate {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now().Add(-time.Hour))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw-alice"), bcrypt.MinCost)
	users, err := signin.ParseUsers([]byte(fmt.Sprintf(`{"users":[{"username":"alice","password_hash":%q,"groups":["pilot"]}]}`, hash)), ".json")
	if err != nil {
		t.Fatal(err)
	}
	key, err := assertion.NewSigningKey(time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := assertion.NewSigningKeys([]store.SigningKey{key})
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := device.NewTrustCache(100, nil)
	limiter, err := deviceapi.NewLimiter(deviceapi.Limits{Activation: deviceapi.Rate{Events: 1, Per: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGate(Config{
		Application: "legacy", Users: users, Store: st, Cookies: codec,
		Headers: DefaultIdentityHeaders(), Assertion: &assertion.Config{Keys: keys}, Limiter: limiter,
		Device: &DeviceTrust{
			Policy:      policy.Policy{Mode: policy.ModeCheck, Integration: policy.Integration{State: policy.All}},
			Cache:       cache,
			Enrollment:  device.EnrollSelf,
			AppleAppIDs: []string{"ABCDE12345.com.example.trustgate"},
			AndroidApps: []device.AndroidApp{{Package: "com.example.trustgate", Fingerprints: []string{strings.Repeat("AB:", 31) + "AB"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// gateServer serves g (and a tiny upstream behind it) over HTTP or HTTPS.
func gateServer(t *testing.T, g *Gate, tls bool) *httptest.Server {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, handled := g.Authenticate(w, r); !handled {
			_, _ = io.WriteString(w, "upstream")
		}
	})
	srv := httptest.NewUnstartedServer(h)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// siteRoutes walks every route of a users-file site with a device check,
// in an order that reaches the success answers too (signed in, prompt
// shown, session started and ended).
var siteRoutes = []routeStep{
	{name: "protected page, browser", method: "GET", path: "/app", kind: plain, status: http.StatusFound},
	{name: "protected page, script", method: "GET", path: "/app", header: map[string]string{"Accept": "application/json"}, kind: plain, status: http.StatusUnauthorized},
	{name: "login form", method: "GET", path: "/.trustgate/login?return=/app", kind: page, status: http.StatusOK},
	{name: "login, wrong method", method: "PUT", path: "/.trustgate/login", kind: page, status: http.StatusMethodNotAllowed},
	{name: "login, forged CSRF", method: "POST", path: "/.trustgate/login", form: url.Values{"csrf": {"forged"}, "username": {"alice"}, "password": {"pw-alice"}}, kind: page, status: http.StatusForbidden},
	{name: "login, oversized form", method: "POST", path: "/.trustgate/login", body: []byte("username=" + strings.Repeat("a", 32<<10)), kind: page, status: http.StatusRequestEntityTooLarge},
	{name: "login, wrong password", method: "POST", path: "/.trustgate/login", form: url.Values{"username": {"alice"}, "password": {"wrong"}}, kind: page, status: http.StatusUnauthorized},
	{name: "login, right password", method: "POST", path: "/.trustgate/login", form: url.Values{"username": {"alice"}, "password": {"pw-alice"}}, kind: plain, status: http.StatusSeeOther},
	{name: "prompt", method: "GET", path: "/.trustgate/verify", kind: page, status: http.StatusOK},
	{name: "prompt status", method: "GET", path: "/.trustgate/verify/status", kind: plain, status: http.StatusOK},
	{name: "prompt continue", method: "GET", path: "/.trustgate/verify/next", kind: plain, status: http.StatusSeeOther},
	{name: "prompt complete, nothing approved", method: "GET", path: "/.trustgate/verify/complete", kind: plain, status: http.StatusSeeOther},
	{name: "passcode, wrong method", method: "GET", path: "/.trustgate/verify/passcode", kind: page, status: http.StatusMethodNotAllowed},
	{name: "passcode, oversized form", method: "POST", path: "/.trustgate/verify/passcode", body: []byte("passcode=" + strings.Repeat("1", 32<<10)), kind: page, status: http.StatusRequestEntityTooLarge},
	{name: "passcode, wrong", method: "POST", path: "/.trustgate/verify/passcode", form: url.Values{"passcode": {"000000"}}, kind: page, status: http.StatusUnauthorized},
	{name: "push, no device", method: "POST", path: "/.trustgate/verify/push", form: url.Values{}, kind: page, status: http.StatusBadRequest},
	{name: "new activation code", method: "POST", path: "/.trustgate/verify/enroll", form: url.Values{}, kind: plain, status: http.StatusSeeOther},
	{name: "return link, other browser", method: "GET", path: protocol.ReturnPath + "?tx=x&code=y", kind: page, status: http.StatusForbidden},
	{name: "skip the check", method: "POST", path: "/.trustgate/verify/skip", form: url.Values{}, kind: plain, status: http.StatusSeeOther},
	{name: "login while signed in", method: "GET", path: "/.trustgate/login?return=/app", kind: plain, status: http.StatusSeeOther},
	{name: "logout page", method: "GET", path: "/.trustgate/logout", kind: page, status: http.StatusOK},
	{name: "logout, forged CSRF", method: "POST", path: "/.trustgate/logout", body: []byte("csrf=forged"), kind: page, status: http.StatusForbidden},
	{name: "logout", method: "POST", path: "/.trustgate/logout", form: url.Values{}, kind: plain, status: http.StatusSeeOther},
	{name: "logout, wrong method", method: "DELETE", path: "/.trustgate/logout", kind: page, status: http.StatusMethodNotAllowed},
	{name: "logout everywhere page", method: "GET", path: "/.trustgate/logout/everywhere", kind: page, status: http.StatusOK},
	{name: "logout everywhere, signed out", method: "POST", path: "/.trustgate/logout/everywhere", form: url.Values{}, kind: plain, status: http.StatusSeeOther},
	{name: "prompt, signed out", method: "GET", path: "/.trustgate/verify", kind: page, status: http.StatusBadRequest},
	{name: "status, signed out", method: "GET", path: "/.trustgate/verify/status", kind: plain, status: http.StatusOK},
	{name: "app link fallback, verify", method: "GET", path: protocol.VerifyLinkPath + "?tx=x&challenge=y", kind: page, status: http.StatusOK},
	{name: "app link fallback, activate", method: "GET", path: protocol.ActivateLinkPath + "?code=x", kind: page, status: http.StatusOK},
	{name: "OIDC callback on a users-file site", method: "GET", path: "/.trustgate/oidc/callback?state=x&code=y", kind: page, status: http.StatusNotFound},
	{name: "unknown gateway page", method: "GET", path: "/.trustgate/nothing-here", kind: page, status: http.StatusNotFound},
	{name: "key set", method: "GET", path: JWKSPath, kind: static, status: http.StatusOK},
	{name: "key set, wrong method", method: "POST", path: JWKSPath, kind: plain, status: http.StatusMethodNotAllowed},
	{name: "stylesheet", method: "GET", path: "/.trustgate/static/trustgate.css", kind: static, status: http.StatusOK},
	{name: "script", method: "GET", path: "/.trustgate/static/trustgate.js", kind: static, status: http.StatusOK},
	{name: "missing static file", method: "GET", path: "/.trustgate/static/nothing.css", kind: plain, status: http.StatusNotFound},
	{name: "apple app site association", method: "GET", path: "/.well-known/apple-app-site-association", kind: static, status: http.StatusOK},
	{name: "asset links", method: "GET", path: "/.well-known/assetlinks.json", kind: static, status: http.StatusOK},
	{name: "device API, no proof", method: "GET", path: protocol.PathDevice, kind: plain, status: http.StatusUnauthorized},
	{name: "device API, pushes without proof", method: "GET", path: protocol.PathPushes, kind: plain, status: http.StatusUnauthorized},
	{name: "device API, answer without proof", method: "POST", path: protocol.PathPushes + "/x", body: []byte(`{"answer":"approve"}`), kind: plain, status: http.StatusUnauthorized},
	{name: "device API, wrong method", method: "GET", path: protocol.PathActivate, kind: plain, status: http.StatusMethodNotAllowed},
	{name: "device API, unknown endpoint", method: "GET", path: protocol.APIPrefix + "nothing", kind: plain, status: http.StatusNotFound},
	{name: "device API, oversized body", method: "POST", path: protocol.PathReportPrefix + "x/report", body: bytes.Repeat([]byte("a"), 70<<10), kind: plain, status: http.StatusRequestEntityTooLarge},
	{name: "device API, deeply nested JSON", method: "POST", path: protocol.PathReportPrefix + "x/report", body: []byte(`{"challenge":"c","facts":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`), kind: plain, status: http.StatusBadRequest},
	{name: "device API, activation", method: "POST", path: protocol.PathActivate, body: []byte(`{"code":"x","platform":"android"}`), kind: plain, status: http.StatusUnauthorized},
	{name: "device API, activation over the rate", method: "POST", path: protocol.PathActivate, body: []byte(`{"code":"x","platform":"android"}`), kind: plain, status: http.StatusTooManyRequests},
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// walkRoutes runs steps on srv with one browser and checks the headers of
// every answer, and the attributes of every cookie set.
func walkRoutes(t *testing.T, srv *httptest.Server, steps []routeStep) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := srv.Client()
	client.Jar = jar
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	https := strings.HasPrefix(srv.URL, "https:")
	csrf := ""
	for _, s := range steps {
		var body io.Reader
		contentType := ""
		switch {
		case s.form != nil:
			form := url.Values{}
			for k, v := range s.form {
				form[k] = v
			}
			if !form.Has("csrf") {
				form.Set("csrf", csrf)
			}
			body, contentType = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
		case s.body != nil:
			body = bytes.NewReader(s.body)
			contentType = "application/x-www-form-urlencoded"
			if strings.HasPrefix(s.path, protocol.APIPrefix) {
				contentType = "application/json"
			}
		}
		req, err := http.NewRequest(s.method, srv.URL+s.path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "text/html")
		// A phone's browser, which the device check applies to.
		req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		for k, v := range s.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if m := csrfField.FindSubmatch(raw); m != nil {
			csrf = string(m[1])
		}
		if resp.StatusCode != s.status {
			t.Errorf("%s: %s %s answered %d, want %d\n%.300s", s.name, s.method, s.path, resp.StatusCode, s.status, raw)
		}
		checkHardening(t, s, resp)
		checkCookies(t, s.name, resp, https)
	}
}

// checkHardening checks the headers that s's kind of answer must carry.
func checkHardening(t *testing.T, s routeStep, resp *http.Response) {
	t.Helper()
	h := resp.Header
	fail := func(format string, args ...any) {
		t.Errorf("%s: %s %s (%d): %s", s.name, s.method, s.path, resp.StatusCode, fmt.Sprintf(format, args...))
	}
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, d) {
			fail("Content-Security-Policy %q lacks %s", csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-") || strings.Contains(csp, "*") {
		fail("Content-Security-Policy %q allows unsafe sources", csp)
	}
	if s.kind == page && csp != web.PageCSP {
		fail("page has Content-Security-Policy %q, want the page policy %q", csp, web.PageCSP)
	}
	for name, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
	} {
		if got := h.Get(name); got != want {
			fail("%s is %q, want %q", name, got, want)
		}
	}
	cc := h.Get("Cache-Control")
	switch s.kind {
	case static:
		if !strings.HasPrefix(cc, "public, max-age=") {
			fail("Cache-Control is %q, want public, max-age=...", cc)
		}
	default:
		if cc != "no-store" {
			fail("Cache-Control is %q, want no-store", cc)
		}
	}
	if s.kind == page && !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		fail("Content-Type is %q, want an HTML page", h.Get("Content-Type"))
	}
	if resp.StatusCode == http.StatusTooManyRequests && h.Get("Retry-After") == "" {
		fail("429 without Retry-After")
	}
}

// checkCookies checks that every cookie the gateway sets is host-only,
// for the whole site, out of reach of scripts, not sent on cross-site
// posts, and, on HTTPS, Secure with the __Host- prefix.
func checkCookies(t *testing.T, step string, resp *http.Response, https bool) {
	t.Helper()
	for _, line := range resp.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Errorf("%s: unparsable Set-Cookie %q: %v", step, line, err)
			continue
		}
		attrs := strings.ToLower(line)
		switch {
		case c.Domain != "" || strings.Contains(attrs, "domain="):
			t.Errorf("%s: cookie %s has a Domain: %q", step, c.Name, line)
		case c.Path != "/":
			t.Errorf("%s: cookie %s has Path %q, want /", step, c.Name, c.Path)
		case !c.HttpOnly:
			t.Errorf("%s: cookie %s is not HttpOnly", step, c.Name)
		case c.SameSite != http.SameSiteLaxMode:
			t.Errorf("%s: cookie %s is not SameSite=Lax: %q", step, c.Name, line)
		case c.Secure != https:
			t.Errorf("%s: cookie %s Secure=%v on https=%v", step, c.Name, c.Secure, https)
		case https && !strings.HasPrefix(c.Name, "__Host-"):
			t.Errorf("%s: cookie %s lacks the __Host- prefix on HTTPS", step, c.Name)
		}
	}
}

func TestEveryRouteCarriesHardeningHeaders(t *testing.T) {
	t.Parallel()
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			walkRoutes(t, gateServer(t, hardeningSite(t), tls), siteRoutes)
		})
	}
}

func TestOIDCRoutesCarryHardeningHeaders(t *testing.T) {
	t.Parallel()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now().Add(-time.Hour))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	site := func(issuer string) *Gate {
		o, err := signin.NewOIDCLogin(signin.OIDCConfig{Issuer: issuer, ClientID: testClientID, ClientSecret: testClientSecret, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		g, err := NewGate(Config{Application: "legacy", OIDC: o, Store: st, Cookies: codec})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	p := startProvider(t, "")
	walkRoutes(t, gateServer(t, site(p.Issuer()), true), []routeStep{
		{name: "login, to the provider", method: "GET", path: "/.trustgate/login?return=/app", kind: plain, status: http.StatusFound},
		{name: "callback, wrong state", method: "GET", path: "/.trustgate/oidc/callback?state=forged&code=x", kind: page, status: http.StatusForbidden},
		{name: "login, wrong method", method: "POST", path: "/.trustgate/login", kind: page, status: http.StatusMethodNotAllowed},
	})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	ln.Close()
	walkRoutes(t, gateServer(t, site(down), true), []routeStep{
		{name: "login, provider down", method: "GET", path: "/.trustgate/login?return=/app", kind: page, status: http.StatusServiceUnavailable},
	})
}

// TestHardeningWalkCoversEveryRoute reads the routes the gateway
// dispatches on (the gate's router, and the device API's from its source),
// so that a new route cannot be added without a step above that checks
// its headers.
func TestHardeningWalkCoversEveryRoute(t *testing.T) {
	var walked []string
	for _, s := range siteRoutes {
		p, _, _ := strings.Cut(s.path, "?")
		walked = append(walked, p)
	}
	covered := func(route string, prefix bool) bool {
		return slices.ContainsFunc(walked, func(p string) bool { return p == route || prefix && strings.HasPrefix(p, route) })
	}
	// The catch-all and the exact paths kept from ServeMux's redirects
	// answer the not-found page, walked as "unknown gateway page"; the
	// device API's routes are read from its source below.
	notFound := []string{ReservedPrefix, ReservedPrefix + "static", strings.TrimSuffix(protocol.APIPrefix, "/"), protocol.APIPrefix}
	routes := hardeningSite(t).reservedRoutes()
	if len(routes) == 0 {
		t.Fatal("the gate routes nothing; update this test to how it dispatches")
	}
	for _, rt := range routes {
		if slices.Contains(notFound, rt.pattern) {
			continue
		}
		route, wildcard, _ := strings.Cut(rt.pattern, "{")
		if !covered(route, wildcard != "") {
			t.Errorf("the gate routes %s, which no step of siteRoutes requests", rt.pattern)
		}
	}
	// The device API routes with ServeMux patterns: a step must request a
	// path each pattern matches.
	const apiFile = "deviceapi/api.go"
	src, err := os.ReadFile(apiFile)
	if err != nil {
		t.Fatal(err)
	}
	patterns := regexp.MustCompile(`mux\.Handle\(p\+"([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(patterns) == 0 {
		t.Fatalf("found no routes in %s; update this test to how it dispatches", apiFile)
	}
	wildcard := regexp.MustCompile(`\{[a-z]+(\.\.\.)?\}`)
	for _, m := range patterns {
		pattern := protocol.APIPrefix + m[1]
		var b strings.Builder
		last := 0
		for _, loc := range wildcard.FindAllStringIndex(pattern, -1) {
			b.WriteString(regexp.QuoteMeta(pattern[last:loc[0]]))
			if strings.HasSuffix(pattern[loc[0]:loc[1]], "...}") {
				b.WriteString(".*")
			} else {
				b.WriteString("[^/]+")
			}
			last = loc[1]
		}
		b.WriteString(regexp.QuoteMeta(pattern[last:]))
		re := regexp.MustCompile("^" + b.String() + "$")
		if !slices.ContainsFunc(walked, re.MatchString) {
			t.Errorf("%s routes %s, which no step of siteRoutes requests", apiFile, protocol.APIPrefix+m[1])
		}
	}
	for _, route := range []string{JWKSPath, protocol.ReturnPath, protocol.VerifyLinkPath, protocol.ActivateLinkPath,
		"/.well-known/apple-app-site-association", "/.well-known/assetlinks.json"} {
		if !slices.Contains(walked, route) {
			t.Errorf("no step of siteRoutes requests %s", route)
		}
	}
}
