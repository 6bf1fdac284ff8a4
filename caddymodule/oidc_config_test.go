package caddymodule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/oauth2-proxy/mockoidc"
)

// oidcCaddyfile protects up with OIDC login at issuer; options go into the
// login oidc block.
func oidcCaddyfile(t *testing.T, issuer, clientID, secret string, up *upstream, options string) string {
	t.Helper()
	return globalOptions(storePath(t), "") + fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login oidc {
			issuer        %s
			client_id     %s
			client_secret %s
			scopes        groups
			%s
		}
	}
	reverse_proxy %s
}
`, httpPort, issuer, clientID, secret, options, up.hostPort())
}

// rewriteDiscovery lets edit change the provider's discovery document
// while on is set (always, when on is nil).
func rewriteDiscovery(on *atomic.Bool, edit func(doc map[string]any)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.DiscoveryEndpoint || (on != nil && !on.Load()) {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			edit(doc)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(doc)
		})
	}
}

// validateCaddyfile runs what `trustgate validate` runs: adapt, then
// provision and validate every module without starting the servers.
func validateCaddyfile(t *testing.T, caddyfile string) error {
	t.Helper()
	adapted, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), nil)
	if err != nil {
		t.Fatalf("adapting: %v (%v)", err, warnings)
	}
	var cfg *caddy.Config
	if err := caddy.StrictUnmarshalJSON(adapted, &cfg); err != nil {
		t.Fatal(err)
	}
	return caddy.Validate(cfg)
}

// misconfigured checks that r is the misconfiguration page (no "try again
// in a minute") and that the auth log recorded an error with reason.
func misconfigured(t *testing.T, r response, wantReason string) {
	t.Helper()
	if r.status != http.StatusInternalServerError || !strings.Contains(r.body, "misconfigured") || !strings.Contains(r.body, "administrator") {
		t.Fatalf("want the 500 misconfigured page, got %d:\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, "try again") || strings.Contains(r.body, "cannot be reached") || r.header.Get("Retry-After") != "" {
		t.Fatalf("a configuration error reads like an outage:\n%s", r.body)
	}
	if result, reason, factor, _ := lastAuthLog(t); result != "error" || reason != wantReason || factor != "oidc" {
		t.Fatalf("auth log: %s/%s/%s, want error/%s/oidc", result, reason, factor, wantReason)
	}
}

func TestOIDCIssuerMismatchIsAConfigurationError(t *testing.T) {
	// The gateway starts against a provider that matches; then the
	// provider names itself with a trailing slash (as after a provider
	// upgrade, or an issuer typed without the slash it has).
	var slash atomic.Bool
	p := startProvider(t, rewriteDiscovery(&slash, func(doc map[string]any) { doc["issuer"] = doc["issuer"].(string) + "/" }))
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, ""))
	slash.Store(true)
	b := newBrowser(t)
	r := b.get(gateURL + "/.trustgate/login?return=/wiki")
	misconfigured(t, r, "issuer_mismatch")
	if e := authLog(t, "limit=1")[0]; !strings.Contains(e.Detail, p.Issuer()+"/") {
		t.Fatalf("auth log detail %q does not name the provider's issuer", e.Detail)
	}
	if up.Hits() != 0 {
		t.Fatal("upstream reached")
	}
}

func TestOIDCValidateRefusesIssuerMismatch(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	err := validateCaddyfile(t, oidcCaddyfile(t, p.Issuer()+"/", oidcClientID, oidcClientSecret, up, ""))
	if err == nil || !strings.Contains(err.Error(), "issuer mismatch") || !strings.Contains(err.Error(), fmt.Sprintf("%q", p.Issuer())) {
		t.Fatalf("validate with a trailing slash: %v, want an issuer mismatch naming %q", err, p.Issuer())
	}
	err = validateCaddyfile(t, oidcCaddyfile(t, p.Addr()+"/no-such-realm", oidcClientID, oidcClientSecret, up, ""))
	if err == nil || !strings.Contains(err.Error(), "no OpenID provider") {
		t.Fatalf("validate with an issuer that has no provider: %v", err)
	}
	if err := validateCaddyfile(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, "")); err != nil {
		t.Fatalf("validate with the right issuer: %v", err)
	}
	// A provider that is down does not stop the gateway from starting.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/oidc"
	ln.Close()
	if err := validateCaddyfile(t, oidcCaddyfile(t, down, oidcClientID, oidcClientSecret, up, "")); err != nil {
		t.Fatalf("validate with the provider down: %v", err)
	}
}

func TestOIDCUnknownClientIsAConfigurationError(t *testing.T) {
	p := startProvider(t)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, "not-the-secret", up, ""))
	p.queueUser(oidcUser)
	b := newBrowser(t)
	misconfigured(t, b.get(b.oidcStart("/")), "unknown_client")
	if b.sessionCookie() != "" {
		t.Fatal("signed in")
	}
}

func TestOIDCRejectedRedirectURIIsAConfigurationError(t *testing.T) {
	// As providers do when they send the error back: the authorization
	// request's redirect_uri is not registered for this client.
	refuseRedirect := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.AuthorizationEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			q := r.URL.Query()
			back := url.Values{"error": {"invalid_request"}, "error_description": {"Invalid parameter: redirect_uri"}, "state": {q.Get("state")}}
			http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
		})
	}
	p := startProvider(t, refuseRedirect)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, ""))
	b := newBrowser(t)
	misconfigured(t, b.get(b.oidcStart("/")), "invalid_redirect_uri")
}

func TestOIDCStartAgainKeepsTheWantedPage(t *testing.T) {
	// The person cancels at the provider: "Start again" must lead back to
	// the page they wanted, not to /.
	cancel := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.AuthorizationEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			q := r.URL.Query()
			back := url.Values{"error": {"access_denied"}, "state": {q.Get("state")}}
			http.Redirect(w, r, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
		})
	}
	p := startProvider(t, cancel)
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, ""))
	b := newBrowser(t)
	const wanted = "/reports/q3?year=2026&tab=2"
	r := b.get(b.oidcStart(wanted))
	refused(t, r, "provider_error")
	want := `href="/.trustgate/login?return=` + url.QueryEscape(wanted) + `"`
	if !strings.Contains(strings.ReplaceAll(r.body, "&amp;", "&"), want) && !bytes.Contains([]byte(r.body), []byte(strings.ReplaceAll(want, "&", "&amp;"))) {
		t.Fatalf("start-again link lost the page; want %s in:\n%s", want, r.body)
	}
}
