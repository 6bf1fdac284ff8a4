package caddymodule

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/trustgate/trustgate/prompt/oidctest"
)

const (
	oidcClientID     = "legacy-app"
	oidcClientSecret = "s3cret-for-tests"
)

// provider is the shared test provider (prompt/oidctest), knowing the
// client oidcClientID.
type provider struct{ *oidctest.Provider }

func startProvider(t *testing.T, middleware ...func(http.Handler) http.Handler) *provider {
	t.Helper()
	return &provider{oidctest.Start(t, oidcClientID, oidcClientSecret, "", middleware...)}
}

func (p *provider) queueUser(u *mockoidc.MockUser) { p.QueueUser(u) }

func (p *provider) fastForward(d time.Duration) { p.FastForward(d) }

// oidcGateway protects up with OIDC login at p, as client clientID.
func oidcGateway(t *testing.T, p *provider, up *upstream, clientID string) {
	t.Helper()
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
	}
	reverse_proxy %s
}
`, httpPort, p.Issuer(), clientID, oidcClientSecret, up.hostPort()))
}

var oidcUser = &mockoidc.MockUser{
	Subject:           "248289761001",
	Email:             "jane@example.com",
	EmailVerified:     true,
	PreferredUsername: "jane",
	Groups:            []string{"engineering", "pilot"},
}

// oidcStart walks from the protected URL to the provider and back, and
// returns the gateway callback URL the provider redirected to.
func (b *browser) oidcStart(path string) string {
	b.t.Helper()
	r := b.get(gateURL + path)
	if r.status != http.StatusFound {
		b.t.Fatalf("GET %s: %d", path, r.status)
	}
	r = b.get(gateURL + r.location)
	if r.status != http.StatusFound || !strings.Contains(r.location, "code_challenge_method=S256") {
		b.t.Fatalf("login start: %d location %q", r.status, r.location)
	}
	r = b.get(r.location) // the provider signs the queued user in at once
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, gateURL+"/.trustgate/oidc/callback?") {
		b.t.Fatalf("provider: %d location %q body %s", r.status, r.location, r.body)
	}
	return r.location
}

func (b *browser) flowCookie() string {
	u, _ := url.Parse(gateURL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == "tg_flow" {
			return c.Value
		}
	}
	return ""
}

func lastAuthLog(t *testing.T) (result, reason, factor, user string) {
	t.Helper()
	entries := authLog(t, "limit=1")
	if len(entries) != 1 {
		t.Fatalf("want an auth-log row, got %d", len(entries))
	}
	e := entries[0]
	return e.Result, e.Reason, e.Factor, e.User
}

func TestOIDCLoginReachesUpstreamWithIdentity(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	b := newBrowser(t)

	r := b.get(b.oidcStart("/dashboard?tab=2"))
	if r.status != http.StatusSeeOther || r.location != "/dashboard?tab=2" {
		t.Fatalf("callback: %d location %q body %s", r.status, r.location, r.body)
	}
	v := decodeUpstream(t, b.get(gateURL+r.location))
	for name, want := range map[string]string{
		"X-Trustgate-User": "jane", "X-Trustgate-Email": "jane@example.com", "X-Trustgate-Groups": "engineering,pilot",
	} {
		if got := v.Headers[name]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if result, reason, factor, user := lastAuthLog(t); result != "success" || factor != "oidc" || user != "jane" || reason != "provider_approved" {
		t.Fatalf("auth log: %s %s %s %s", result, reason, factor, user)
	}
}

// refused checks that r is the sign-in-failed page and that the auth log
// recorded reason.
func refused(t *testing.T, r response, wantReason string) {
	t.Helper()
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "Sign-in failed") {
		t.Fatalf("want the 403 sign-in-failed page, got %d:\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, oidcClientSecret) {
		t.Fatal("page shows the client secret")
	}
	result, reason, factor, _ := lastAuthLog(t)
	if result != "denied" || reason != wantReason || factor != "oidc" {
		t.Fatalf("auth log: %s/%s/%s, want denied/%s/oidc", result, reason, factor, wantReason)
	}
}

func TestOIDCCallbackWithWrongStateIsRefused(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	b := newBrowser(t)

	callback, _ := url.Parse(b.oidcStart("/"))
	q := callback.Query()
	q.Set("state", "attacker-chosen-state")
	callback.RawQuery = q.Encode()
	refused(t, b.get(callback.String()), "invalid_state")
	if b.sessionCookie() != "" || up.Hits() != 0 {
		t.Fatal("a wrong state got a session")
	}
}

func TestOIDCCallbackFromAnotherBrowserIsRefused(t *testing.T) {
	// Login CSRF: an attacker sends the victim their own callback URL.
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	callback := newBrowser(t).oidcStart("/")
	victim := newBrowser(t)
	refused(t, victim.get(callback), "invalid_state")
	if victim.sessionCookie() != "" {
		t.Fatal("the victim was signed in as the attacker")
	}
}

func TestOIDCReplayedCallbackIsRefused(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	b := newBrowser(t)
	callback := b.oidcStart("/")
	flow := b.flowCookie()
	if r := b.get(callback); r.status != http.StatusSeeOther {
		t.Fatalf("first callback: %d %s", r.status, r.body)
	}
	// Replay the same callback with a copy of the flow cookie, in a fresh
	// browser: the state is single-use.
	replayer := newBrowser(t)
	req, _ := http.NewRequest(http.MethodGet, callback, nil)
	req.AddCookie(&http.Cookie{Name: "tg_flow", Value: flow})
	refused(t, replayer.do(req), "invalid_state")
	if replayer.sessionCookie() != "" {
		t.Fatal("replayed callback got a session")
	}
}

func TestOIDCTokenWithWrongNonceIsRefused(t *testing.T) {
	// The provider is made to issue the ID token for another nonce, as a
	// token injected from another sign-in would carry.
	swapNonce := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				q := r.URL.Query()
				q.Set("nonce", "nonce-of-another-sign-in")
				r.URL.RawQuery = q.Encode()
			}
			next.ServeHTTP(w, r)
		})
	}
	p := startProvider(t, swapNonce)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	b := newBrowser(t)
	refused(t, b.get(b.oidcStart("/")), "invalid_nonce")
}

func TestOIDCExpiredTokenIsRefused(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	p.queueUser(oidcUser)
	p.fastForward(-2 * time.Hour) // tokens issued (and expired) in the past
	b := newBrowser(t)
	refused(t, b.get(b.oidcStart("/")), "token_expired")
}

func TestOIDCTokenForAnotherAudienceIsRefused(t *testing.T) {
	// The gateway is client "other-app"; the provider answers its requests
	// as if they came from legacy-app, so the gateway receives a genuine,
	// signed ID token whose audience is another client.
	const otherClient = "other-app"
	actAsLegacyApp := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil && r.Form.Get("client_id") == otherClient {
				r.Form.Set("client_id", oidcClientID)
				if r.Form.Has("client_secret") {
					r.Form.Set("client_secret", oidcClientSecret)
				}
				q := r.URL.Query()
				if q.Has("client_id") {
					q.Set("client_id", oidcClientID)
					r.URL.RawQuery = q.Encode()
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	p := startProvider(t, actAsLegacyApp)
	up := newUpstream(t)
	oidcGateway(t, p, up, otherClient)
	p.queueUser(oidcUser)
	b := newBrowser(t)
	refused(t, b.get(b.oidcStart("/")), "invalid_audience")
}

func TestOIDCProviderDownShowsClearPage(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	oidcGateway(t, p, up, oidcClientID)
	_ = p.Shutdown()
	b := newBrowser(t)
	r := b.get(gateURL + "/.trustgate/login?return=/")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "cannot be reached") {
		t.Fatalf("provider down: %d\n%s", r.status, r.body)
	}
	if result, reason, _, _ := lastAuthLog(t); result != "error" || reason != "provider_unavailable" {
		t.Fatalf("auth log: %s/%s", result, reason)
	}
}
