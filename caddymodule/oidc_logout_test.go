package caddymodule

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// endSession is an end_session_endpoint for the mock provider, which
// mockoidc lacks: its middleware adds the endpoint to discovery, and the
// endpoint records its calls and sends the browser back.
type endSession struct {
	srv   *httptest.Server
	mu    sync.Mutex
	calls []url.Values
}

func newEndSession(t *testing.T) *endSession {
	e := new(endSession)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.calls = append(e.calls, r.URL.Query())
		e.mu.Unlock()
		http.Redirect(w, r, r.URL.Query().Get("post_logout_redirect_uri"), http.StatusFound)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endSession) url() string { return e.srv.URL + "/logout" }

func (e *endSession) middleware(next http.Handler) http.Handler {
	return rewriteDiscovery(nil, func(doc map[string]any) { doc["end_session_endpoint"] = e.url() })(next)
}

// signInWithOIDC signs b in as oidcUser through p and returns the page.
func (b *browser) signInWithOIDC(p *provider, path string) {
	b.t.Helper()
	p.queueUser(oidcUser)
	if r := b.get(b.oidcStart(path)); r.status != http.StatusSeeOther {
		b.t.Fatalf("callback: %d %s", r.status, r.body)
	}
}

// postSignOut posts the sign-out form to path and returns the answer.
func (b *browser) postSignOut(path string) response {
	b.t.Helper()
	page := b.get(gateURL + "/.trustgate/logout")
	return b.postForm(gateURL+path, url.Values{"csrf": {formCSRF(b.t, page.body)}})
}

// jwtClaims decodes a JWT's claims without checking it.
func jwtClaims(t *testing.T, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func TestOIDCSignOutEndsTheProviderSession(t *testing.T) {
	es := newEndSession(t)
	p := startProvider(t, es.middleware)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, ""))
	for _, path := range []string{"/.trustgate/logout", "/.trustgate/logout/everywhere"} {
		b := newBrowser(t)
		b.signInWithOIDC(p, "/")
		r := b.postSignOut(path)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, es.url()+"?") {
			t.Fatalf("%s: %d to %q, want 303 to the provider's end_session_endpoint", path, r.status, r.location)
		}
		if strings.Contains(r.header.Get("Set-Cookie"), "tg_session=") && !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatal("session cookie not cleared")
		}
		u, _ := url.Parse(r.location)
		q := u.Query()
		if q.Get("client_id") != oidcClientID || q.Get("post_logout_redirect_uri") != gateURL+"/.trustgate/logout" {
			t.Fatalf("end-session parameters %v", q)
		}
		claims := jwtClaims(t, q.Get("id_token_hint"))
		if claims["aud"] != oidcClientID && !strings.Contains(strings.Join(strings.Fields(toString(claims["aud"])), " "), oidcClientID) {
			t.Fatalf("id_token_hint is not this client's ID token: %v", claims)
		}
		if claims["sub"] != oidcUser.Subject {
			t.Fatalf("id_token_hint is for %v, want %s", claims["sub"], oidcUser.Subject)
		}
		// The provider sends the browser back to the gateway's page.
		back := b.get(r.location)
		if back.status != http.StatusFound {
			t.Fatalf("end_session: %d", back.status)
		}
		if page := b.get(back.location); page.status != http.StatusOK || !strings.Contains(page.body, "You are signed out") {
			t.Fatalf("after the provider: %d\n%s", page.status, page.body)
		}
		if r := b.get(gateURL + "/"); r.status != http.StatusFound {
			t.Fatalf("still signed in after sign-out: %d", r.status)
		}
	}
	if len(es.calls) != 2 {
		t.Fatalf("end_session called %d times, want 2", len(es.calls))
	}
}

func toString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestOIDCLogoutRedirectOverridesEndSession(t *testing.T) {
	es := newEndSession(t)
	p := startProvider(t, es.middleware)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, "logout_redirect https://idp.example.test/signed-out?app=legacy"))
	b := newBrowser(t)
	b.signInWithOIDC(p, "/")
	if r := b.postSignOut("/.trustgate/logout"); r.status != http.StatusSeeOther || r.location != "https://idp.example.test/signed-out?app=legacy" {
		t.Fatalf("sign-out: %d to %q, want logout_redirect", r.status, r.location)
	}
}

func TestOIDCSignOutWithoutEndSessionEndpointStaysOnTheGateway(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, ""))
	b := newBrowser(t)
	b.signInWithOIDC(p, "/")
	if r := b.postSignOut("/.trustgate/logout"); r.status != http.StatusSeeOther || r.location != "/.trustgate/logout" {
		t.Fatalf("sign-out: %d to %q", r.status, r.location)
	}
}

func TestOIDCPromptLoginAsksForAFreshSignIn(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, "prompt login"))
	b := newBrowser(t)
	r := b.get(gateURL + "/.trustgate/login?return=/")
	u, err := url.Parse(r.location)
	if r.status != http.StatusFound || err != nil || u.Query().Get("prompt") != "login" {
		t.Fatalf("authorization request %d %q, want prompt=login", r.status, r.location)
	}
}
