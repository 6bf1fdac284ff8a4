package signin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/trustgate/trustgate/prompt/oidctest"
	"github.com/trustgate/trustgate/prompt/secret"
)

// providerTimeout is the provider timeout of these tests: short, so that a
// call that is not bounded by it shows as a test that takes far longer.
const providerTimeout = 300 * time.Millisecond

// hangUntilGone holds requests to path, the first n times (n < 0: always),
// until the client gives up: a provider that accepts connections and
// never answers.
func hangUntilGone(path string, n int32) func(http.Handler) http.Handler {
	var held atomic.Int32
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path && (n < 0 || held.Add(1) <= n) {
				// The server notices the client leaving only once the
				// body is read.
				_, _ = io.Copy(io.Discard, r.Body)
				<-r.Context().Done()
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// wantUnavailableInTime checks that err says the provider is unavailable
// and came within a few provider timeouts of start.
func wantUnavailableInTime(t *testing.T, err error, start time.Time) {
	t.Helper()
	if took := time.Since(start); took > 5*providerTimeout+time.Second {
		t.Errorf("gave up after %s, with a provider timeout of %s", took, providerTimeout)
	}
	var le *LoginError
	if !errors.As(err, &le) || le.Reason != ReasonProviderUnavailable {
		t.Fatalf("error %v, want reason %s", err, ReasonProviderUnavailable)
	}
}

func TestOIDCDiscoveryGivesUpOnHangingOrClosedProvider(t *testing.T) {
	for name, issuer := range map[string]string{"hanging": oidctest.HangingIssuer(t), "closed": oidctest.ClosingIssuer(t)} {
		t.Run(name, func(t *testing.T) {
			o, err := NewOIDCLogin(OIDCConfig{Issuer: issuer, ClientID: testClientID, Timeout: providerTimeout})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = o.AuthCodeURL(context.Background(), testRedirectURI, secret.Token(), secret.Token(), NewPKCEVerifier())
			wantUnavailableInTime(t, err, start)
			start = time.Now()
			_, err = o.Exchange(context.Background(), testRedirectURI, "code", NewPKCEVerifier(), secret.Token())
			wantUnavailableInTime(t, err, start)
		})
	}
}

func TestOIDCTokenExchangeGivesUpOnHangingProvider(t *testing.T) {
	p := startProvider(t, "", hangUntilGone(mockoidc.TokenEndpoint, -1))
	o := p.login(t, OIDCConfig{Timeout: providerTimeout})
	s := p.signIn(t, o, nil)
	start := time.Now()
	_, err := s.exchange(o)
	wantUnavailableInTime(t, err, start)
}

// TestOIDCKeySetFetchGivesUpOnHangingProvider also gives the login an HTTP
// client without a timeout: go-oidc fetches the key set in the background
// with that client alone, so without the timeout the gateway puts on it a
// fetch that hangs once would stay in flight for ever, and every later
// login would fail although the provider is back.
func TestOIDCKeySetFetchGivesUpOnHangingProvider(t *testing.T) {
	p := startProvider(t, "", hangUntilGone(mockoidc.JWKSEndpoint, 1))
	o := p.login(t, OIDCConfig{Timeout: providerTimeout, HTTPClient: &http.Client{}})
	s := p.signIn(t, o, nil)
	start := time.Now()
	_, err := s.exchange(o)
	wantUnavailableInTime(t, err, start)

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := p.signIn(t, o, nil).exchange(o)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login once the key set answers again: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
