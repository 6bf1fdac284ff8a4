package caddymodule

import (
	"encoding/json"
	"errors"
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
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddytest"
	"github.com/caddyserver/certmagic"

	// The admin API and the dashboard, which the tests use through
	// Caddy, are their own modules (package admin never imports this one).
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store"
)

// Ports of the in-process test Caddy, picked free when the test binary
// starts (see TestMain), so that several test binaries can run at once on
// one machine. caddytest runs one Caddy per test binary, so the tests in
// this package run one after another.
var (
	adminPort, httpPort, httpsPort int
	gateURL, adminURL              string
)

// freeTCPPort asks the kernel for a port that is free on loopback now.
func freeTCPPort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// testDir holds this test binary's Caddy data, autosave file and stores.
var testDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "trustgate-caddymodule-")
	if err != nil {
		panic(err)
	}
	testDir = dir
	adminPort, httpPort, httpsPort = freeTCPPort(), freeTCPPort(), freeTCPPort()
	gateURL = fmt.Sprintf("http://localhost:%d", httpPort)
	adminURL = fmt.Sprintf("http://localhost:%d", adminPort)
	dashURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	caddytest.Default.AdminPort = adminPort
	// These are computed from $HOME at init; set them before Caddy starts
	// so the tests never touch the developer's own Caddy files.
	caddy.ConfigAutosavePath = filepath.Join(dir, "autosave.json")
	caddy.DefaultStorage = &certmagic.FileStorage{Path: filepath.Join(dir, "data")}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// upstream is a real HTTP server standing in for the protected application.
// It answers with what it received, as JSON.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	hits int
}

type upstreamView struct {
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := new(upstream)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.hits++
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(upstreamView{Path: r.URL.Path, Headers: r.Header})
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) Hits() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.hits
}

func (u *upstream) hostPort() string { return strings.TrimPrefix(u.URL, "http://") }

// storePath returns a fresh SQLite path for one test.
func storePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "trustgate.db")
}

// globalOptions is the start of every test Caddyfile; extra goes into the
// trusted_endpoints global option.
func globalOptions(dbPath string, extra string) string {
	return globalOptionsWithServers(dbPath, extra, "")
}

// globalOptionsWithServers adds a servers block (Caddy's server options).
func globalOptionsWithServers(dbPath, extra, servers string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	https_port %d
	skip_install_trust
	persist_config off
	servers {
		%s
	}
	trusted_endpoints {
		storage sqlite %s
		%s
	}
}
`, adminPort, httpPort, httpsPort, servers, dbPath, extra)
}

// startGateway loads caddyfile into the test Caddy.
func startGateway(t *testing.T, caddyfile string) {
	t.Helper()
	tester := caddytest.NewTester(t)
	tester.InitServer(caddyfile, "caddyfile")
	if t.Failed() {
		t.FailNow()
	}
}

// usersGateway starts a gateway that protects up with a users file, and
// returns the store path. servers holds Caddy server options, if any.
func usersGateway(t *testing.T, up *upstream, servers string) (dbPath string) {
	t.Helper()
	dbPath = storePath(t)
	startGateway(t, globalOptionsWithServers(dbPath, "", servers)+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		lockout 3 15m
	}
	handle /app/* {
		reverse_proxy %s
	}
	reverse_proxy %s {
		header_up X-Placeholder-User {trusted_endpoints.user}
		header_up X-Placeholder-Auth-Id {http.auth.user.id}
		header_up X-Placeholder-Groups {trusted_endpoints.groups}
	}
}
`, httpPort, gatetest.WriteUsersFile(t), up.hostPort(), up.hostPort()))
	return dbPath
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so each step of a flow can be checked.
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

type response struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}
	// The client adds the jar's cookies to the request it is given, so
	// each try sends a copy.
	resp, err := b.client.Do(req.Clone(req.Context()))
	// Caddy's switch to a reloaded configuration can close a connection
	// the old listener had just accepted (EOF or a reset before any
	// answer). A browser's GET, which changes nothing, is sent again then,
	// up to three times; anything else still fails the test at once.
	for try := 1; err != nil && try <= 3 && req.Method == http.MethodGet && req.Body == nil && droppedConnection(err); try++ {
		b.t.Logf("%s %s: %v (the connection was dropped before any answer; sending it again)", req.Method, req.URL, err)
		time.Sleep(100 * time.Millisecond)
		resp, err = b.client.Do(req.Clone(req.Context()))
	}
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(body), location: resp.Header.Get("Location")}
}

// droppedConnection reports whether err is a connection closed or reset
// before any answer came.
func droppedConnection(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

func (b *browser) get(rawURL string) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) postForm(rawURL string, form url.Values) response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formCSRF returns the CSRF token of the form in an HTML page.
func formCSRF(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// openLoginForm opens the login page for returnTo and returns its CSRF token.
func (b *browser) openLoginForm(returnTo string) string {
	b.t.Helper()
	r := b.get(gateURL + "/.trustgate/login?return=" + url.QueryEscape(returnTo))
	if r.status != http.StatusOK {
		b.t.Fatalf("login page: status %d, body %s", r.status, r.body)
	}
	return formCSRF(b.t, r.body)
}

// submitLogin posts the login form.
func (b *browser) submitLogin(csrf, user, password string) response {
	b.t.Helper()
	return b.postForm(gateURL+"/.trustgate/login", url.Values{
		"csrf": {csrf}, "username": {user}, "password": {password},
	})
}

// login signs in through the whole browser flow: protected URL, redirect to
// the form, post, redirect back. It returns the final redirect target.
func (b *browser) login(user, password, path string) string {
	b.t.Helper()
	r := b.get(gateURL + path)
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		b.t.Fatalf("GET %s before login: status %d location %q", path, r.status, r.location)
	}
	r = b.get(gateURL + r.location)
	if r.status != http.StatusOK {
		b.t.Fatalf("login form: status %d", r.status)
	}
	r = b.submitLogin(formCSRF(b.t, r.body), user, password)
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("login post: status %d body %s", r.status, r.body)
	}
	return r.location
}

// sessionCookie returns the browser's session cookie value for the gateway.
func (b *browser) sessionCookie() string {
	u, _ := url.Parse(gateURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "tg_session" {
			return c.Value
		}
	}
	return ""
}

// upstreamView decodes a response that came from the test upstream.
func decodeUpstream(t *testing.T, r response) upstreamView {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("want the upstream's 200, got %d: %s", r.status, r.body)
	}
	var v upstreamView
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("response is not from the upstream: %v\n%s", err, r.body)
	}
	return v
}

// authLog queries the admin API's auth log.
func authLog(t *testing.T, query string) []store.AuthLogEntry {
	t.Helper()
	resp, err := http.Get(adminURL + "/trusted-endpoints/auth-log?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("auth-log API: %d %s", resp.StatusCode, body)
	}
	var out struct {
		Entries []store.AuthLogEntry `json:"entries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Entries
}
