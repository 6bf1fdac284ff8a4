package caddymodule

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// refuseRefresh makes the provider answer refresh grants with
// invalid_grant while on is set, as for a person disabled at the provider.
func refuseRefresh(on *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.TokenEndpoint && on.Load() {
				if err := r.ParseForm(); err == nil && r.PostForm.Get("grant_type") == "refresh_token" {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestOIDCRevalidateEndsTheSessionOfADisabledPerson(t *testing.T) {
	var disabled atomic.Bool
	p := startProvider(t, refuseRefresh(&disabled))
	up := newUpstream(t)
	startGateway(t, oidcCaddyfile(t, p.Issuer(), oidcClientID, oidcClientSecret, up, "revalidate 1s"))
	b := newBrowser(t)
	b.signInWithOIDC(p, "/")
	second := newBrowser(t)
	second.signInWithOIDC(p, "/")

	// Due, and the provider still knows the person: in.
	time.Sleep(2100 * time.Millisecond)
	decodeUpstream(t, b.get(gateURL+"/still-in"))

	disabled.Store(true)
	time.Sleep(2100 * time.Millisecond)
	r := b.get(gateURL + "/after-disable")
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, "/.trustgate/login?") {
		t.Fatalf("disabled person: %d to %q, want the login redirect", r.status, r.location)
	}
	if result, reason, factor, user := lastAuthLog(t); result != "denied" || reason != "provider_refused" || factor != "oidc" || user != "jane" {
		t.Fatalf("auth log: %s/%s/%s/%s", result, reason, factor, user)
	}
	// Signed out everywhere: the other browser too.
	if r := second.get(gateURL + "/other-browser"); r.status != http.StatusFound {
		t.Fatalf("the person's other session: %d", r.status)
	}
}
