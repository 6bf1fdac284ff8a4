package signin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oauth2-proxy/mockoidc"
)

func TestOIDCDiscoveryTellsMisconfigurationFromOutage(t *testing.T) {
	var down atomic.Bool
	p := startProvider(t, "", failing(mockoidc.DiscoveryEndpoint, &down))
	check := func(issuer string) error {
		o, err := NewOIDCLogin(OIDCConfig{Issuer: issuer, ClientID: testClientID})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.CheckProvider(context.Background())
		return err
	}
	if err := check(p.Issuer()); err != nil {
		t.Fatalf("right issuer: %v", err)
	}
	for _, issuer := range []string{p.Issuer() + "/", p.Addr() + "/elsewhere"} {
		err := check(issuer)
		wantReason(t, err, ReasonIssuerMismatch)
		if !IsConfigurationError(err) {
			t.Errorf("issuer %s: %v is not a configuration error", issuer, err)
		}
	}
	down.Store(true)
	err := check(p.Issuer())
	wantReason(t, err, ReasonProviderUnavailable)
	if IsConfigurationError(err) {
		t.Error("an outage counts as a configuration error")
	}
}

func TestOIDCCallbackErrorsTellMisconfigurationFromRefusal(t *testing.T) {
	for _, tt := range []struct{ code, description, want string }{
		{"access_denied", "", ReasonProviderError},
		{"login_required", "", ReasonProviderError},
		{"invalid_request", "Invalid parameter: redirect_uri", ReasonInvalidRedirectURI},
		{"invalid_request", "missing nonce", ReasonProviderError},
		{"unauthorized_client", "", ReasonUnknownClient},
		{"invalid_client", "", ReasonUnknownClient},
		{"invalid_scope", "groups", ReasonInvalidScope},
	} {
		if got := CallbackError(tt.code, tt.description); got.Reason != tt.want {
			t.Errorf("%s (%s): reason %s, want %s", tt.code, tt.description, got.Reason, tt.want)
		}
	}
}

func TestOIDCCheckProviderWarnsWhenUserNamesWouldBeSub(t *testing.T) {
	claims := []string{"sub", "email", "preferred_username", "groups"}
	p := startProvider(t, "", func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.DiscoveryEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var doc map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &doc)
			doc["claims_supported"] = claims
			_ = json.NewEncoder(w).Encode(doc)
		})
	})
	check := func(userClaim string) []string {
		o, err := NewOIDCLogin(OIDCConfig{Issuer: p.Issuer(), ClientID: testClientID, UserClaim: userClaim})
		if err != nil {
			t.Fatal(err)
		}
		warnings, err := o.CheckProvider(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return warnings
	}
	if w := check(""); len(w) != 0 {
		t.Fatalf("warnings for a provider that sends names: %q", w)
	}
	claims = []string{"sub", "groups"}
	if w := check(""); len(w) != 1 || !strings.Contains(w[0], "sub") {
		t.Fatalf("want a warning that names fall back to sub, got %q", w)
	}
	if w := check("upn"); len(w) != 1 || !strings.Contains(w[0], "upn") {
		t.Fatalf("want a warning about user_claim upn, got %q", w)
	}
}
