// Package oidctest is test support: a real OpenID Connect provider
// (mockoidc) on loopback, for the tests of the OIDC sign-in at every
// level (the client in prompt, the gate, the Caddy module). It is
// imported only by tests.
package oidctest

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"
)

// Provider is a real OIDC provider on loopback. Its handlers run one at a
// time, and QueueUser and FastForward wait for them: mockoidc's sessions
// and clock are not safe for concurrent use.
type Provider struct {
	*mockoidc.MockOIDC
	mu sync.Mutex
}

// Start starts a provider that knows the client clientID with
// clientSecret, listening on addr ("" for any free loopback port);
// middleware runs, in order, before mockoidc's handlers. The provider
// stops when the test ends.
func Start(t testing.TB, clientID, clientSecret, addr string, middleware ...func(http.Handler) http.Handler) *Provider {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m.ClientID, m.ClientSecret = clientID, clientSecret
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

// serialize runs one handler at a time.
func (p *Provider) serialize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		defer p.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

// QueueUser queues the user the next authorization signs in.
func (p *Provider) QueueUser(u mockoidc.User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.MockOIDC.QueueUser(u)
}

// FastForward moves the provider's clock by d (back, for a negative d).
func (p *Provider) FastForward(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.MockOIDC.FastForward(d)
}
