package gatetest

import (
	"crypto/tls"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// User agents of the access devices in tests.
const (
	AndroidUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	IPhoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	DesktopUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

// Browser is a browser with a cookie jar and one user agent that does not
// follow redirects, so that a test checks each step of a flow.
type Browser struct {
	t      testing.TB
	gw     *Gateway
	ua     string
	client *http.Client
}

// Response is one answer a Browser got.
type Response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// NewBrowser returns a browser of the gateway that sends ua. Over HTTPS
// it trusts the test server's certificate and presents no client
// certificate.
func (gw *Gateway) NewBrowser(ua string) *Browser {
	return gw.NewBrowserWithCertificate(ua, nil)
}

// NewBrowserWithCertificate is NewBrowser for an HTTPS gateway, with a
// client certificate (nil: none) that the browser presents when the
// gateway asks for one.
func (gw *Gateway) NewBrowserWithCertificate(ua string, cert *tls.Certificate) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		gw.t.Fatal(err)
	}
	client := &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if gw.server.TLS != nil {
		transport := gw.server.Client().Transport.(*http.Transport).Clone()
		if cert != nil {
			transport.TLSClientConfig.Certificates = []tls.Certificate{*cert}
		}
		gw.t.Cleanup(transport.CloseIdleConnections)
		client.Transport = transport
	}
	return &Browser{t: gw.t, gw: gw, ua: ua, client: client}
}

// CopyCookiesTo gives other the cookies this browser holds for the
// gateway, as someone who copied them would.
func (b *Browser) CopyCookiesTo(other *Browser) {
	u, err := url.Parse(b.gw.URL + "/")
	if err != nil {
		b.t.Fatal(err)
	}
	other.client.Jar.SetCookies(u, b.client.Jar.Cookies(u))
}

// Do sends req as the browser does (with its user agent, and accepting
// HTML unless req says otherwise).
func (b *Browser) Do(req *http.Request) Response {
	b.t.Helper()
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	}
	if b.ua != "" {
		req.Header.Set("User-Agent", b.ua)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

// target makes a path absolute on the gateway; an absolute URL is kept.
func (b *Browser) target(pathOrURL string) string {
	if strings.HasPrefix(pathOrURL, "/") {
		return b.gw.URL + pathOrURL
	}
	return pathOrURL
}

// Get opens a path of the gateway, or an absolute URL.
func (b *Browser) Get(pathOrURL string) Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.target(pathOrURL), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Do(req)
}

// PostForm posts form to a path of the gateway, or an absolute URL.
func (b *Browser) PostForm(pathOrURL string, form url.Values) Response {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.target(pathOrURL), strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.Do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// FormCSRF returns the CSRF token of the form in an HTML page.
func FormCSRF(t testing.TB, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// SubmitLogin posts the login form.
func (b *Browser) SubmitLogin(csrf, user, password string) Response {
	b.t.Helper()
	return b.PostForm("/.trustgate/login", url.Values{"csrf": {csrf}, "username": {user}, "password": {password}})
}

// Login signs in through the whole browser flow: the protected path, the
// redirect to the form, the post. It returns where the post redirects.
func (b *Browser) Login(user, password, path string) string {
	b.t.Helper()
	r := b.Get(path)
	if r.Status != http.StatusFound || !strings.HasPrefix(r.Location, "/.trustgate/login?") {
		b.t.Fatalf("GET %s before login: status %d location %q", path, r.Status, r.Location)
	}
	r = b.Get(r.Location)
	if r.Status != http.StatusOK {
		b.t.Fatalf("login form: status %d", r.Status)
	}
	r = b.SubmitLogin(FormCSRF(b.t, r.Body), user, password)
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("login post: status %d body %s", r.Status, r.Body)
	}
	return r.Location
}

// OpenPrompt signs the browser in as user (with the users file's password)
// and follows the redirect to the prompt page, which it returns.
func (b *Browser) OpenPrompt(user, path string) string {
	b.t.Helper()
	loc := b.Login(user, Users[user].Password, path)
	if loc != "/.trustgate/verify" {
		b.t.Fatalf("after login: redirected to %q, want the prompt", loc)
	}
	r := b.Get(loc)
	if r.Status != http.StatusOK {
		b.t.Fatalf("prompt page: %d %s", r.Status, r.Body)
	}
	return r.Body
}

// VerifyStatus reads the waiting page's status.
func (b *Browser) VerifyStatus() (state, next string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.gw.URL+"/.trustgate/verify/status", nil)
	req.Header.Set("Accept", "application/json")
	r := b.Do(req)
	var s struct{ State, Next string }
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
		b.t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	return s.State, s.Next
}

// DecodeUpstream decodes a response that came from the upstream, and fails
// the test for any other.
func DecodeUpstream(t testing.TB, r Response) Upstream {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("want the upstream's 200, got %d: %s", r.Status, r.Body)
	}
	var v Upstream
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("response is not from the upstream: %v\n%s", err, r.Body)
	}
	return v
}

var (
	appLinkAttr   = regexp.MustCompile(`data-app-link="([^"]+)"`)
	httpsLinkAttr = regexp.MustCompile(`data-https-link="([^"]+)"`)
	matchNumber   = regexp.MustCompile(`id="match-number">(\d\d)<`)
)

// PromptLinks returns the custom-scheme and HTTPS deep links of a prompt
// page.
func PromptLinks(t testing.TB, page string) (app, https string) {
	t.Helper()
	a, h := appLinkAttr.FindStringSubmatch(page), httpsLinkAttr.FindStringSubmatch(page)
	if a == nil || h == nil {
		t.Fatalf("no deep links on the prompt page:\n%s", page)
	}
	return html.UnescapeString(a[1]), html.UnescapeString(h[1])
}

// MatchNumber returns the number a prompt page shows for number matching.
func MatchNumber(t testing.TB, page string) string {
	t.Helper()
	m := matchNumber.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no number on the prompt:\n%s", page)
	}
	return m[1]
}
