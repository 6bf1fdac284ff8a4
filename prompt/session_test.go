package prompt

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/session"
)

// The session cache's own tests are in package session; these hold it to
// the gate's answers.

// encodeSession returns the cookie value of s under ag's keys.
func (ag *assertionGate) encodeSession(t testing.TB, s *session.Session) string {
	t.Helper()
	value, err := ag.codec.Encode(session.CookieBase, s)
	if err != nil {
		t.Fatal(err)
	}
	return value
}

// signedInRequest sends a request carrying the session cookie value
// through the gate and reports whether it was let through.
func (ag *assertionGate) signedInRequest(value string) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	r.AddCookie(&http.Cookie{Name: session.CookieBase, Value: value})
	w := httptest.NewRecorder()
	_, handled := ag.Authenticate(w, r)
	return w, !handled
}

func TestSessionCacheStillEnforcesExpiry(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	if ag.sessions.CachedSessions() != 1 {
		t.Fatal("the session was not cached")
	}
	ag.now = ag.now.Add(8 * time.Hour)
	if w, ok := ag.signedInRequest(value); ok {
		t.Fatal("an expired session was let through from the cache")
	} else if w.Code != http.StatusUnauthorized && w.Code != http.StatusFound {
		t.Fatalf("expired session answered %d, want a login", w.Code)
	}
}

func TestSessionCacheStillEnforcesDeviceTrust(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeBlock, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "trusted", "dev1"))
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a trusted session was refused")
	}
	// Revoking the vouching device ends the trust at once, whatever the
	// cached session says.
	ag.cache.RevokeDevice("dev1")
	if _, ok := ag.signedInRequest(value); ok {
		t.Fatal("a session vouched for by a revoked device was let through from the cache")
	}
}
