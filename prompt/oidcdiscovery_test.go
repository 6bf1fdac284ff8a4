package prompt

import (
	"context"
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
		return o.CheckProvider(context.Background())
	}
	if err := check(p.Issuer()); err != nil {
		t.Fatalf("right issuer: %v", err)
	}
	for _, issuer := range []string{p.Issuer() + "/", p.Addr() + "/elsewhere"} {
		err := check(issuer)
		wantReason(t, err, reasonIssuerMismatch)
		if !IsConfigurationError(err) {
			t.Errorf("issuer %s: %v is not a configuration error", issuer, err)
		}
	}
	down.Store(true)
	err := check(p.Issuer())
	wantReason(t, err, reasonProviderUnavailable)
	if IsConfigurationError(err) {
		t.Error("an outage counts as a configuration error")
	}
}

func TestOIDCCallbackErrorsTellMisconfigurationFromRefusal(t *testing.T) {
	for _, tt := range []struct{ code, description, want string }{
		{"access_denied", "", reasonProviderError},
		{"login_required", "", reasonProviderError},
		{"invalid_request", "Invalid parameter: redirect_uri", reasonInvalidRedirectURI},
		{"invalid_request", "missing nonce", reasonProviderError},
		{"unauthorized_client", "", reasonUnknownClient},
		{"invalid_client", "", reasonUnknownClient},
		{"invalid_scope", "groups", reasonInvalidScope},
	} {
		if got := callbackError(tt.code, tt.description); got.Reason != tt.want {
			t.Errorf("%s (%s): reason %s, want %s", tt.code, tt.description, got.Reason, tt.want)
		}
	}
}
