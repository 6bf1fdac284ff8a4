package main

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

// browser is a phone's browser: a cookie jar and its own connections.
type browser struct {
	client *http.Client
}

// through returns the same browser (its cookies) sending its requests
// through transport.
func (b *browser) through(transport http.RoundTripper) *browser {
	client := *b.client
	client.Transport = transport
	return &browser{client: &client}
}

// newBrowser returns a browser sending requests through transport (nil: a
// transport of its own, as a browser keeps its connections to itself).
func newBrowser(transport http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil) // never fails without options
	if transport == nil {
		transport = &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Minute}
	}
	return &browser{client: &http.Client{
		Jar:           jar,
		Transport:     transport,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// do sends one request as the browser and returns the status and body.
func (b *browser) do(ctx context.Context, method, u, accept string, form url.Values) (int, string, error) {
	code, _, body, err := b.send(ctx, method, u, accept, form)
	return code, body, err
}

// send is do that returns the response's header too.
func (b *browser) send(ctx context.Context, method, u, accept string, form url.Values) (int, http.Header, string, error) {
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

// get loads a page.
func (b *browser) get(ctx context.Context, u string) (int, string, error) {
	return b.do(ctx, http.MethodGet, u, "text/html", nil)
}

// expect loads a page and fails unless it answers with want.
func (b *browser) expect(ctx context.Context, u string, want int) (string, error) {
	status, body, err := b.get(ctx, u)
	if err != nil {
		return "", err
	}
	if status != want {
		return body, fmt.Errorf("GET %s: status %d, want %d: %s", u, status, want, snippet(body))
	}
	return body, nil
}

// login fills in the users-file sign-in form.
func (b *browser) login(ctx context.Context, base, user, password string) error {
	page, err := b.expect(ctx, base+"/.trustgate/login", http.StatusOK)
	if err != nil {
		return fmt.Errorf("sign-in form: %w", err)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		return fmt.Errorf("sign-in form has no CSRF field: %s", snippet(page))
	}
	form := url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}}
	status, body, err := b.do(ctx, http.MethodPost, base+"/.trustgate/login", "text/html", form)
	if err != nil {
		return fmt.Errorf("signing in as %s: %w", user, err)
	}
	if status != http.StatusSeeOther {
		return fmt.Errorf("signing in as %s: status %d, want 303: %s", user, status, snippet(body))
	}
	return nil
}

// prompt opens the device-check prompt and returns its verification link.
func (b *browser) prompt(ctx context.Context, base string) (string, error) {
	page, err := b.expect(ctx, base+"/.trustgate/verify", http.StatusOK)
	if err != nil {
		return "", fmt.Errorf("prompt: %w", err)
	}
	m := verifyLink.FindStringSubmatch(page)
	if m == nil {
		return "", fmt.Errorf("prompt has no app link: %s", snippet(page))
	}
	return html.UnescapeString(m[1]), nil
}

// status is the waiting page's poll: where the pending check stands. An
// answer other than 200 is a *pollRefused, which the page retries.
func (b *browser) status(ctx context.Context, base string) (string, error) {
	code, header, body, err := b.send(ctx, http.MethodGet, base+"/.trustgate/verify/status", "application/json", nil)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		refused := &pollRefused{status: code, body: snippet(body)}
		if n, err := strconv.Atoi(header.Get("Retry-After")); err == nil && n > 0 {
			refused.retryAfter = time.Duration(n) * time.Second
		}
		return "", refused
	}
	var s struct{ State string }
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return "", fmt.Errorf("status poll: decoding: %w", err)
	}
	return s.State, nil
}

// pollRefused is a status poll the gateway answered with an error status
// (503 when it is busy or its store is unreachable).
type pollRefused struct {
	status     int
	retryAfter time.Duration
	body       string
}

func (e *pollRefused) Error() string {
	return fmt.Sprintf("status poll: status %d (Retry-After %s): %s", e.status, e.retryAfter, e.body)
}

// sessionCookies is the Cookie header value the browser sends to base.
func (b *browser) sessionCookies(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parsing %s: %w", base, err)
	}
	var parts []string
	for _, c := range b.client.Jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("the browser holds no cookie for %s", base)
	}
	return strings.Join(parts, "; "), nil
}

// snippet shortens a response body for an error message.
func snippet(body string) string {
	body = strings.Join(strings.Fields(body), " ")
	if len(body) > 300 {
		body = body[:300] + "…"
	}
	return body
}
