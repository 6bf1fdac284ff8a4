// Package oidctest runs a real OpenID Connect provider (mockoidc) on
// loopback for tests of sign-in, at the level of the OIDC client
// (package signin) and of the gate (package prompt): one harness for both.
package oidctest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/trustgate/trustgate/prompt/signin"
)

// Timeout is a provider timeout for tests: short, so that a call that is
// not bounded by it shows as a test that takes far longer.
const Timeout = 300 * time.Millisecond

// The client the provider knows, and where it sends browsers back to.
const (
	ClientID     = "trustgate-test"
	ClientSecret = "s3cret-client-value"
	RedirectURI  = "https://gate.example.test/.trustgate/oidc/callback"
)

// Provider is a real OIDC provider (mockoidc) listening on loopback.
type Provider struct {
	*mockoidc.MockOIDC
	// mu serializes the provider's handlers and the test's changes to it:
	// mockoidc's session store and clock are not safe for concurrent use.
	mu sync.Mutex
}

// Start starts a provider on addr ("" for any free loopback port);
// middleware runs, in order, before mockoidc's handlers. It stops when
// the test ends.
func Start(t testing.TB, addr string, middleware ...func(http.Handler) http.Handler) *Provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.ClientID, m.ClientSecret = ClientID, ClientSecret
	p := &Provider{MockOIDC: m}
	for _, mw := range append([]func(http.Handler) http.Handler{p.serialize}, middleware...) {
		if err := m.AddMiddleware(mw); err != nil {
			t.Fatal(err)
		}
	}
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return p
}

func (p *Provider) serialize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// FastForward moves the provider's clock, between its requests.
func (p *Provider) FastForward(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.MockOIDC.FastForward(d)
}

// Login returns an OIDC client of this provider: cfg with the issuer and
// the client filled in where they are empty.
func (p *Provider) Login(t testing.TB, cfg signin.OIDCConfig) *signin.OIDCLogin {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = p.Issuer()
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = ClientID, ClientSecret
	}
	o, err := signin.NewOIDCLogin(cfg)
	if err != nil {
		t.Fatalf("NewOIDCLogin: %v", err)
	}
	return o
}

// Browser returns a client that never follows redirects, so a test can
// read the callback.
func Browser() *http.Client {
	return &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
}

// HangingIssuer is a server that accepts every request and never answers.
func HangingIssuer(t testing.TB) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// ClosingIssuer is a server that accepts connections and closes them at
// once, without a word.
func ClosingIssuer(t testing.TB) string {
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
