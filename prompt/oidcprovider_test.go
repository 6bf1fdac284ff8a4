package prompt

import (
	"net/http"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/oidctest"
	"github.com/trustgate/trustgate/prompt/signin"
)

// The gate's tests sign in at the shared test provider (prompt/oidctest)
// as this client.
const (
	testClientID     = "trustgate-test"
	testClientSecret = "s3cret-client-value"
	testRedirectURI  = "https://gate.example.test/.trustgate/oidc/callback"
)

// testProvider is the shared test provider, knowing the client
// testClientID.
type testProvider struct{ *oidctest.Provider }

// startProvider starts a provider on addr ("" for any free loopback port);
// middleware runs, in order, before mockoidc's handlers.
func startProvider(t *testing.T, addr string, middleware ...func(http.Handler) http.Handler) *testProvider {
	t.Helper()
	return &testProvider{oidctest.Start(t, testClientID, testClientSecret, addr, middleware...)}
}

func (p *testProvider) login(t *testing.T, cfg signin.OIDCConfig) *signin.OIDCLogin {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = p.Issuer()
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = testClientID, testClientSecret
	}
	o, err := signin.NewOIDCLogin(cfg)
	if err != nil {
		t.Fatalf("NewOIDCLogin: %v", err)
	}
	return o
}

// browser never follows redirects, so the test can read the callback.
var browser = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}
