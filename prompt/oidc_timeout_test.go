package prompt

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
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

// hangingIssuer is a server that accepts every request and never answers.
func hangingIssuer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// closingIssuer is a server that accepts connections and closes them at
// once, without a word.
func closingIssuer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	return "http://" + ln.Addr().String()
}

// wantUnavailableInTime checks that err says the provider is unavailable
// and came within a few provider timeouts of start.
func wantUnavailableInTime(t *testing.T, err error, start time.Time) {
	t.Helper()
	if took := time.Since(start); took > 5*providerTimeout+time.Second {
		t.Errorf("gave up after %s, with a provider timeout of %s", took, providerTimeout)
	}
	var le *LoginError
	if !errors.As(err, &le) || le.Reason != reasonProviderUnavailable {
		t.Fatalf("error %v, want reason %s", err, reasonProviderUnavailable)
	}
}

func TestOIDCDiscoveryGivesUpOnHangingOrClosedProvider(t *testing.T) {
	for name, issuer := range map[string]string{"hanging": hangingIssuer(t), "closed": closingIssuer(t)} {
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

// TestOIDCProviderDownShowsUnreachablePage goes through the gate: the
// person gets a clear 503 page in time, not a hang or a 500.
func TestOIDCProviderDownShowsUnreachablePage(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := NewCookieCodec([]store.CookieKey{NewCookieKey(time.Now().Add(-time.Hour))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, issuer := range map[string]string{"hanging": hangingIssuer(t), "closed": closingIssuer(t)} {
		t.Run(name, func(t *testing.T) {
			o, err := NewOIDCLogin(OIDCConfig{Issuer: issuer, ClientID: testClientID, Timeout: providerTimeout})
			if err != nil {
				t.Fatal(err)
			}
			g, err := NewGate(Config{Application: "legacy", OIDC: o, Store: st, Cookies: codec})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "https://gw.test/.trustgate/login?return=/app", nil)
			r.Header.Set("Accept", "text/html")
			w := httptest.NewRecorder()
			start := time.Now()
			g.Authenticate(w, r)
			if took := time.Since(start); took > 5*providerTimeout+time.Second {
				t.Errorf("answered after %s, with a provider timeout of %s", took, providerTimeout)
			}
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, "Sign-in provider unreachable") || w.Header().Get("Retry-After") == "" {
				t.Fatalf("answered %d (Retry-After %q):\n%s", w.Code, w.Header().Get("Retry-After"), body)
			}
		})
	}
}
