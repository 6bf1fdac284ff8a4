package session

import (
	"fmt"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

func TestSessionCacheAnswersARepeatedCookieFromMemory(t *testing.T) {
	k := newTestKeeper(t, 0)
	want := k.session("s1", "", "")
	value := k.encodeSession(t, want)
	got, err := k.cache.decode(CookieBase, value)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %+v, want %+v", got, want)
	}
	if n := k.cache.len(); n != 1 {
		t.Fatalf("cache holds %d sessions after one cookie, want 1", n)
	}
	// Mark the stored session: a second decode that returns the mark was
	// answered from memory, not by the codec.
	key := sessionKey(CookieBase, value)
	e, _ := k.cache.entries.Peek(key)
	marked := *e.session
	marked.Factor = "from-cache"
	k.cache.entries.Add(key, sessionEntry{session: &marked, generation: e.generation})
	again, err := k.cache.decode(CookieBase, value)
	if err != nil {
		t.Fatal(err)
	}
	if again.Factor != "from-cache" {
		t.Fatalf("second decode of the same cookie did not come from the cache: factor %q", again.Factor)
	}
}

func TestSessionCacheMissesForAnotherCookieAndAnotherName(t *testing.T) {
	k := newTestKeeper(t, 0)
	a := k.encodeSession(t, k.session("s1", "", ""))
	b := k.encodeSession(t, k.session("s2", "", ""))
	for _, v := range []string{a, b} {
		if _, err := k.cache.decode(CookieBase, v); err != nil {
			t.Fatal(err)
		}
	}
	if n := k.cache.len(); n != 2 {
		t.Fatalf("cache holds %d sessions after two cookies, want 2", n)
	}
	got, err := k.cache.decode(CookieBase, b)
	if err != nil || got.ID != "s2" {
		t.Fatalf("second cookie decoded to %+v (%v), want session s2", got, err)
	}
	// The codec signs the cookie's name: a value made for tg_session is
	// refused as __Host-tg_session, cached or not.
	if s, err := k.cache.decode("__Host-"+CookieBase, a); err == nil {
		t.Fatalf("a cookie made for %s decoded under another name: %+v", CookieBase, s)
	}
}

func TestSessionCacheStillEnforcesRevocation(t *testing.T) {
	k := newTestKeeper(t, 0)
	s := k.session("s1", "", "")
	value := k.encodeSession(t, s)
	if _, ok := k.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	k.revocations.addSession(s.ID, s.Expires())
	w, ok := k.signedInRequest(value)
	if ok {
		t.Fatal("a revoked session was let through from the cache")
	}
	if !clearsSession(w.Result()) {
		t.Fatal("the revoked session's cookie was not cleared")
	}
}

func TestSessionCacheIsClearedWhenCookieKeysChange(t *testing.T) {
	k := newTestKeeper(t, 0)
	value := k.encodeSession(t, k.session("s1", "", ""))
	if _, ok := k.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	// The key that made the cookie is removed: the cached session must not
	// outlive it.
	if err := k.codec.SetKeys([]store.CookieKey{NewCookieKey(keeperBase.Add(-time.Hour))}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.signedInRequest(value); ok {
		t.Fatal("a cookie made with a removed key was let through from the cache")
	}
	if n := k.cache.len(); n != 0 {
		t.Fatalf("cache holds %d sessions after the keys changed, want 0", n)
	}
	// An entry stored under the old keys by a decode that raced with the
	// change is not used either.
	key := sessionKey(CookieBase, value)
	k.cache.entries.Add(key, sessionEntry{session: k.session("s1", "", ""), generation: k.codec.keyGeneration() - 1})
	if _, err := k.cache.decode(CookieBase, value); err == nil {
		t.Fatal("an entry decoded under replaced keys was used")
	}
}

func TestSessionCacheSurvivesARefreshThatKeepsTheKeys(t *testing.T) {
	k := newTestKeeper(t, 0)
	old, added := NewCookieKey(keeperBase.Add(-2*time.Hour)), NewCookieKey(keeperBase)
	if err := k.codec.SetKeys([]store.CookieKey{old}); err != nil {
		t.Fatal(err)
	}
	value := k.encodeSession(t, k.session("s1", "", ""))
	if _, ok := k.signedInRequest(value); !ok {
		t.Fatal("a fresh session was refused")
	}
	// The periodic refresh from the store sets the same keys again.
	if err := k.codec.SetKeys([]store.CookieKey{old}); err != nil {
		t.Fatal(err)
	}
	if n := k.cache.len(); n != 1 {
		t.Fatalf("setting the same keys again emptied the cache (%d sessions)", n)
	}
	// A rotation keeps the old key for decoding: the cookie still works,
	// decoded afresh.
	if err := k.codec.SetKeys([]store.CookieKey{added, old}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.signedInRequest(value); !ok {
		t.Fatal("a session made with a key still held was refused after a rotation")
	}
	// Then the old key goes.
	if err := k.codec.SetKeys([]store.CookieKey{added}); err != nil {
		t.Fatal(err)
	}
	if _, ok := k.signedInRequest(value); ok {
		t.Fatal("a cookie made with a removed key was let through from the cache")
	}
}

func TestSessionCacheNeverAnswersATamperedCookie(t *testing.T) {
	k := newTestKeeper(t, 0)
	value := k.encodeSession(t, k.session("s1", "", ""))
	if _, err := k.cache.decode(CookieBase, value); err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		b := []byte(value)
		b[i] ^= 1
		return string(b)
	}
	for _, tampered := range []string{value + "A", value[:len(value)-1], value[1:], flip(0), flip(len(value) / 2), flip(len(value) - 1), ""} {
		if s, err := k.cache.decode(CookieBase, tampered); err == nil {
			t.Errorf("tampered cookie %q decoded to %+v", tampered, s)
		}
	}
	if n := k.cache.len(); n != 1 {
		t.Fatalf("cache holds %d sessions, want only the genuine one", n)
	}
}

func TestSessionCacheIsBounded(t *testing.T) {
	k := newTestKeeper(t, 0)
	cache, err := newCache(3, k.codec)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := cache.decode(CookieBase, k.encodeSession(t, k.session(fmt.Sprint("s", i), "", ""))); err != nil {
			t.Fatal(err)
		}
	}
	if n := cache.len(); n != 3 {
		t.Fatalf("cache of size 3 holds %d sessions", n)
	}
}

func TestSessionCacheHandsOutCopies(t *testing.T) {
	k := newTestKeeper(t, 0)
	value := k.encodeSession(t, k.session("s1", "", ""))
	first, err := k.cache.decode(CookieBase, value)
	if err != nil {
		t.Fatal(err)
	}
	first.User, first.Trust = "mallory", "trusted"
	second, err := k.cache.decode(CookieBase, value)
	if err != nil {
		t.Fatal(err)
	}
	if second.User != "alice" || second.Trust != "" {
		t.Fatalf("a change to one request's session reached the cache: %+v", second)
	}
}

func TestSessionCacheCanBeTurnedOff(t *testing.T) {
	k := newTestKeeper(t, 0)
	cache, err := newCache(-1, k.codec)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cache.decode(CookieBase, k.encodeSession(t, k.session("s1", "", "")))
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
	k := newTestKeeper(b, 0)
	const n = 20_000
	values := make([]string, n)
	for i := range values {
		values[i] = k.encodeSession(b, k.session(secret.Token(), "trusted", "dev1"))
	}
	for b.Loop() {
		cache, err := newCache(n, k.codec)
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, v := range values {
			if _, err := cache.decode(CookieBase, v); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/entry")
		runtime.KeepAlive(cache)
	}
}
