// Package browser is the phone browser trustgate-bench simulates: a
// cookie jar over connections of its own, which opens the protected site,
// fills in the users-file sign-in form, opens the device-check prompt and
// polls its status, paced as the prompt's script paces it (WaitingPage).
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// phoneUserAgent is what the bench's browsers say they are: the mobile
// check applies to a phone of an enabled platform.
const phoneUserAgent = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	// verifyLink is the prompt page's HTTPS app link for the transaction.
	verifyLink = regexp.MustCompile(`data-https-link="([^"]+)"`)
)

// Browser is a phone's browser: a cookie jar and its own connections.
type Browser struct {
	client *http.Client
}

// Through returns the same browser (its cookies) sending its requests
// through transport.
func (b *Browser) Through(transport http.RoundTripper) *Browser {
	client := *b.client
	client.Transport = transport
	return &Browser{client: &client}
}

// New returns a browser sending requests through transport (nil: a
// transport of its own, as a browser keeps its connections to itself). It
// follows no redirect: the flows check each one.
func New(transport http.RoundTripper) *Browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	if transport == nil {
		transport = &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Minute}
	}
	return &Browser{client: &http.Client{
		Jar:           jar,
		Transport:     transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends one request as the browser and returns the status and body.
func (b *Browser) do(ctx context.Context, method, u, accept string, form url.Values) (int, string, error) {
	code, _, body, err := b.send(ctx, method, u, accept, form)
	return code, body, err
}

// send is do that returns the response's header too.
func (b *Browser) send(ctx context.Context, method, u, accept string, form url.Values) (int, http.Header, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s %s: %w", method, u, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", phoneUserAgent)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s %s: %w", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, resp.Header, "", fmt.Errorf("%s %s: reading the body: %w", method, u, err)
	}
	return resp.StatusCode, resp.Header, string(data), nil
}

// Get loads a page and returns its status and body.
func (b *Browser) Get(ctx context.Context, u string) (int, string, error) {
	return b.do(ctx, http.MethodGet, u, "text/html", nil)
}

// Expect loads a page and fails unless it answers with want.
func (b *Browser) Expect(ctx context.Context, u string, want int) (string, error) {
	status, body, err := b.Get(ctx, u)
	if err != nil {
		return "", err
	}
	if status != want {
		return body, fmt.Errorf("GET %s: status %d, want %d: %s", u, status, want, Snippet(body))
	}
	return body, nil
}

// Login fills in the users-file sign-in form of the site at base.
func (b *Browser) Login(ctx context.Context, base, user, password string) error {
	page, err := b.Expect(ctx, base+"/.trustgate/login", http.StatusOK)
	if err != nil {
		return fmt.Errorf("sign-in form: %w", err)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("sign-in form has no CSRF field: %s", Snippet(page))
	}
	form := url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}}
	status, body, err := b.do(ctx, http.MethodPost, base+"/.trustgate/login", "text/html", form)
	if err != nil {
		return fmt.Errorf("signing in as %s: %w", user, err)
	}
	if status != http.StatusSeeOther {
		return fmt.Errorf("signing in as %s: status %d, want 303: %s", user, status, Snippet(body))
	}
	return nil
}

// Prompt opens the device-check prompt of the site at base and returns
// its verification link, the app link a phone opens.
func (b *Browser) Prompt(ctx context.Context, base string) (string, error) {
	page, err := b.Expect(ctx, base+"/.trustgate/verify", http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	m := verifyLink.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("prompt has no app link: %s", Snippet(page))
	}
	return html.UnescapeString(m[1]), nil
}

// Status is the waiting page's poll: where the pending check stands. An
// answer other than 200 is a *PollRefused, which the page retries.
func (b *Browser) Status(ctx context.Context, base string) (string, error) {
	code, header, body, err := b.send(ctx, http.MethodGet, base+"/.trustgate/verify/status", "application/json", nil)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		refused := &PollRefused{Status: code, Body: Snippet(body)}
		if n, err := strconv.Atoi(header.Get("Retry-After")); err == nil && n > 0 {
			refused.RetryAfter = time.Duration(n) * time.Second
		}
		return "", refused
	}
	var s struct{ State string }
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return "", fmt.Errorf("status poll: decoding: %w", err)
	}
	return s.State, nil
}

// PollRefused is a status poll the gateway answered with an error status
// (503 when it is busy or its store is unreachable).
type PollRefused struct {
	// Status is the answer's HTTP status.
	Status int
	// RetryAfter is the answer's Retry-After (0: none).
	RetryAfter time.Duration
	// Body is the start of the answer's body.
	Body string
}

func (e *PollRefused) Error() string {
	return fmt.Sprintf("status poll: status %d (Retry-After %s): %s", e.Status, e.RetryAfter, e.Body)
}

// CookieHeader is the Cookie header value the browser sends to base.
func (b *Browser) CookieHeader(base string) (string, error) {
	cookies, err := b.Cookies(base)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, c := range cookies {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("the browser holds no cookie for %s", base)
	}
	return strings.Join(parts, "; "), nil
}

// Cookies returns the cookies the browser holds for base, to give another
// browser the same session.
func (b *Browser) Cookies(base string) ([]*http.Cookie, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("parsing %s: %w", base, err)
	}
	return b.client.Jar.Cookies(u), nil
}

// SetCookies gives the browser cookies for base.
func (b *Browser) SetCookies(base string, cookies []*http.Cookie) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", base, err)
	}
	b.client.Jar.SetCookies(u, cookies)
	return nil
}

// CloseIdleConnections drops the browser's idle connections.
func (b *Browser) CloseIdleConnections() {
	b.client.CloseIdleConnections()
}

// Snippet shortens a response body for an error message.
func Snippet(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return body
}
