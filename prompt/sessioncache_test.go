package prompt

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// encodeSession returns the cookie value of s under ag's keys.
func (ag *assertionGate) encodeSession(t testing.TB, s *Session) string {
	t.Helper()
	value, err := ag.codec.Encode(sessionCookie, s)
	if err != nil {
		t.Fatal(err)
	}
	return value
}

// signedInRequest sends a request carrying the session cookie value
// through the gate and reports whether it was let through.
func (ag *assertionGate) signedInRequest(value string) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: value})
	w := httptest.NewRecorder()
	_, handled := ag.Authenticate(w, r)
	return w, !handled
}

func TestSessionCacheAnswersARepeatedCookieFromMemory(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	want := ag.session("s1", "", "")
	value := ag.encodeSession(t, want)
	got, err := ag.sessions.decode(sessionCookie, value)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	if n := ag.sessions.len(); n != 1 {
		t.Fatalf("cache holds %d sessions after one cookie, want 1", n)
	}
	// Mark the stored session: a second decode that returns the mark was
	// answered from memory, not by the codec.
	key := sessionKey(sessionCookie, value)
	e, _ := ag.sessions.entries.Peek(key)
	marked := *e.session
	marked.Factor = "from-cache"
	ag.sessions.entries.Add(key, sessionEntry{session: &marked, generation: e.generation})
	again, err := ag.sessions.decode(sessionCookie, value)
	if err != nil {
		t.Fatal(err)
	}
	if again.Factor != "from-cache" {
		t.Fatalf("second decode of the same cookie did not come from the cache: factor %q", again.Factor)
	}
}

func TestSessionCacheMissesForAnotherCookieAndAnotherName(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	a := ag.encodeSession(t, ag.session("s1", "", ""))
	b := ag.encodeSession(t, ag.session("s2", "", ""))
	for _, v := range []string{a, b} {
		if _, err := ag.sessions.decode(sessionCookie, v); err != nil {
			t.Fatal(err)
		}
	}
	if n := ag.sessions.len(); n != 2 {
		t.Fatalf("cache holds %d sessions after two cookies, want 2", n)
	}
	got, err := ag.sessions.decode(sessionCookie, b)
	if err != nil || got.ID != "s2" {
		t.Fatalf("second cookie decoded to %+v (%v), want session s2", got, err)
	}
	// The codec signs the cookie's name: a value made for tg_session is
	// refused as __Host-tg_session, cached or not.
	if s, err := ag.sessions.decode("__Host-"+sessionCookie, a); err == nil {
		t.Fatalf("a cookie made for %s decoded under another name: %+v", sessionCookie, s)
	}
}

func TestSessionCacheStillEnforcesExpiry(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	if ag.sessions.len() != 1 {
		t.Fatal("the session was not cached")
	}
	ag.now = ag.now.Add(8 * time.Hour)
	if w, ok := ag.signedInRequest(value); ok {
		t.Fatal("an expired session was let through from the cache")
	} else if w.Code != http.StatusUnauthorized && w.Code != http.StatusFound {
		t.Fatalf("expired session answered %d, want a login", w.Code)
	}
}

func TestSessionCacheStillEnforcesRevocation(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	s := ag.session("s1", "", "")
	value := ag.encodeSession(t, s)
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	ag.cfg.Revocations.addSession(s.ID, s.Expires())
	w, ok := ag.signedInRequest(value)
	if ok {
		t.Fatal("a revoked session was let through from the cache")
	}
	if !clearsSession(w.Result()) {
		t.Fatal("the revoked session's cookie was not cleared")
	}
}

func TestSessionCacheStillEnforcesDeviceTrust(t *testing.T) {
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

func TestSessionCacheIsClearedWhenCookieKeysChange(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	// The key that made the cookie is removed: the cached session must not
	// outlive it.
	if err := ag.codec.SetKeys([]store.CookieKey{NewCookieKey(assertionBase.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ag.signedInRequest(value); ok {
		t.Fatal("a cookie made with a removed key was let through from the cache")
	}
	if n := ag.sessions.len(); n != 0 {
		t.Fatalf("cache holds %d sessions after the keys changed, want 0", n)
	}
	// An entry stored under the old keys by a decode that raced with the
	// change is not used either.
	key := sessionKey(sessionCookie, value)
	ag.sessions.entries.Add(key, sessionEntry{session: ag.session("s1", "", ""), generation: ag.codec.keyGeneration() - 1})
	if _, err := ag.sessions.decode(sessionCookie, value); err == nil {
		t.Fatal("an entry decoded under replaced keys was used")
	}
}

func TestSessionCacheSurvivesARefreshThatKeepsTheKeys(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	old, added := NewCookieKey(assertionBase.Add(-2*time.Hour)), NewCookieKey(assertionBase)
	if err := ag.codec.SetKeys([]store.CookieKey{old}); err != nil {
		t.Fatal(err)
	}
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	// The periodic refresh from the store sets the same keys again.
	if err := ag.codec.SetKeys([]store.CookieKey{old}); err != nil {
		t.Fatal(err)
	}
	if n := ag.sessions.len(); n != 1 {
		t.Fatalf("setting the same keys again emptied the cache (%d sessions)", n)
	}
	// A rotation keeps the old key for decoding: the cookie still works,
	// decoded afresh.
	if err := ag.codec.SetKeys([]store.CookieKey{added, old}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ag.signedInRequest(value); !ok {
		t.Fatal("a session made with a key still held was refused after a rotation")
	}
	// Then the old key goes.
	if err := ag.codec.SetKeys([]store.CookieKey{added}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ag.signedInRequest(value); ok {
		t.Fatal("a cookie made with a removed key was let through from the cache")
	}
}

func TestSessionCacheNeverAnswersATamperedCookie(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	if _, err := ag.sessions.decode(sessionCookie, value); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(value)
		b[i] ^= 1
		return string(b)
	}
	for _, tampered := range []string{value + "A", value[:len(value)-1], value[1:], flip(0), flip(len(value) / 2), flip(len(value) - 1), ""} {
		if s, err := ag.sessions.decode(sessionCookie, tampered); err == nil {
			t.Errorf("tampered cookie %q decoded to %+v", tampered, s)
		}
	}
	if n := ag.sessions.len(); n != 1 {
		t.Fatalf("cache holds %d sessions, want only the genuine one", n)
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	cache, err := newSessionCache(3, ag.codec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := cache.decode(sessionCookie, ag.encodeSession(t, ag.session(fmt.Sprint("s", i), "", ""))); err != nil {
			t.Fatal(err)
		}
	}
	if n := cache.len(); n != 3 {
		t.Fatalf("cache of size 3 holds %d sessions", n)
	}
}

func TestSessionCacheHandsOutCopies(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	value := ag.encodeSession(t, ag.session("s1", "", ""))
	first, err := ag.sessions.decode(sessionCookie, value)
	if err != nil {
		t.Fatal(err)
	}
	first.User, first.Trust = "mallory", "trusted"
	second, err := ag.sessions.decode(sessionCookie, value)
	if err != nil {
		t.Fatal(err)
	}
	if second.User != "alice" || second.Trust != "" {
		t.Fatalf("a change to one request's session reached the cache: %+v", second)
	}
}

func TestSessionCacheCanBeTurnedOff(t *testing.T) {
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	cache, err := newSessionCache(-1, ag.codec)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cache.decode(sessionCookie, ag.encodeSession(t, ag.session("s1", "", "")))
	if err != nil || s.ID != "s1" {
		t.Fatalf("decoded %+v (%v), want session s1", s, err)
	}
	if n := cache.len(); n != 0 {
		t.Fatalf("a cache turned off holds %d sessions", n)
	}
}

// BenchmarkSessionCacheMemory reports the heap an entry takes, for a
// session like the hot path's (email, two groups, a vouching device).
func BenchmarkSessionCacheMemory(b *testing.B) {
	ag := newAssertionGate(b, policy.ModeBlock, nil, nil)
	const n = 20_000
	values := make([]string, n)
	for i := range values {
		values[i] = ag.encodeSession(b, ag.session(secret.Token(), "trusted", "dev1"))
	}
	for b.Loop() {
		cache, err := newSessionCache(n, ag.codec)
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, v := range values {
			if _, err := cache.decode(sessionCookie, v); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/entry")
		runtime.KeepAlive(cache)
	}
}
