package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// benchRealm is the realm of the benchmark's site and session.
const benchRealm = "users_file:/bench/users.json"

// BenchmarkHotPath measures the handler for a signed-in request from a
// trusted device, from ServeHTTP to the next handler: the session cookie,
// the device trust, the identity headers and the placeholders. It needs no
// Caddy server, so it binds no port. allow_rules adds access rules that let
// the person in only by the last one checked (their email's domain).
func BenchmarkHotPath(b *testing.B) {
	b.Run("no_rules", func(b *testing.B) { benchmarkHotPath(b, nil) })
	b.Run("allow_rules", func(b *testing.B) {
		benchmarkHotPath(b, &policy.AccessRules{
			Users:  []string{"carol", "dave"},
			Groups: []string{"ops", "admins"},
			Emails: []string{"erin@example.org", "*@example.com"},
		})
	})
}

func benchmarkHotPath(b *testing.B, rules *policy.AccessRules) {
	access, err := policy.NewAccess(rules)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlitestore.Open(filepath.Join(b.TempDir(), "tg.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Now()
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(now.Add(-time.Hour))}, nil)
	if err != nil {
		b.Fatal(err)
	}
	users, err := signin.ParseUsers([]byte(`{"users":[{"username":"alice","password_hash":"$2a$04$abcdefghijklmnopqrstuu5s2z0JkHPnhL3ZsLeX6bX6SaWO0C8wK"}]}`), ".json")
	if err != nil {
		b.Fatal(err)
	}
	cache, err := device.NewTrustCache(100, nil)
	if err != nil {
		b.Fatal(err)
	}
	pol := policy.Policy{Mode: policy.ModeBlock, Integration: policy.Integration{State: policy.All}}
	gate, err := prompt.NewGate(prompt.Config{
		Users: users, Store: st, Cookies: codec, Headers: prompt.DefaultIdentityHeaders(), Realm: benchRealm,
		Device: &prompt.DeviceTrust{Policy: pol, Cache: cache},
		Access: access,
	})
	if err != nil {
		b.Fatal(err)
	}
	s := &session.Session{
		Identity:  session.Identity{User: "alice", Email: "alice@example.com", Groups: []string{"staff", "pilot"}},
		ID:        "s1",
		Factor:    "password",
		IssuedAt:  now.Unix(),
		ExpiresAt: now.Add(8 * time.Hour).Unix(),
		CSRF:      "csrf",
		Realm:     session.RealmID(benchRealm),
		Trust:     "trusted",
		// No vouching device: its trust holds without the trust cache.
		PolicyHash:     pol.Hash(),
		TrustExpiresAt: now.Add(12 * time.Hour).Unix(),
	}
	value, err := codec.Encode("tg_session", s)
	if err != nil {
		b.Fatal(err)
	}
	cookie := (&http.Cookie{Name: "tg_session", Value: value}).String() + "; theme=dark"
	h := Handler{gate: gate}
	reached := false
	next := caddyhttp.HandlerFunc(func(http.ResponseWriter, *http.Request) error {
		reached = true
		return nil
	})
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		// As Caddy does, a new replacer for every request; the gate
		// strips the cookie and identity headers, so the headers start
		// afresh too.
		req := r.WithContext(context.WithValue(r.Context(), caddy.ReplacerCtxKey, caddy.NewReplacer()))
		req.Header = http.Header{"Cookie": {cookie}, "Accept": {"text/html"}}
		reached = false
		if err := h.ServeHTTP(w, req, next); err != nil || !reached {
			b.Fatalf("request did not reach the next handler (%v): %d %s", err, w.Code, w.Body)
		}
	}
}
