package session

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// keeperBase is where the test keepers' clocks start.
var keeperBase = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// testKeeper is a Keeper in its own realm, on a clock the test moves.
type testKeeper struct {
	*Keeper
	clock time.Time
}

// newTestKeeper returns a Keeper of sessions that last 8 hours, whose
// cache holds cacheSize sessions (zero: the default).
func newTestKeeper(t testing.TB, cacheSize int) *testKeeper {
	t.Helper()
	k := &testKeeper{clock: keeperBase}
	now := func() time.Time { return k.clock }
	codec, err := NewCookieCodec([]store.CookieKey{NewCookieKey(keeperBase.Add(-time.Hour))}, now)
	if err != nil {
		t.Fatal(err)
	}
	k.Keeper, err = NewKeeper(Config{Codec: codec, CacheSize: cacheSize, Realm: "users_file:/sites/test.yaml", Lifetime: 8 * time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// session returns alice's session as the keeper would have issued it,
// with trust status trust vouched for by deviceID.
func (k *testKeeper) session(id, trust, deviceID string) *Session {
	s := &Session{
		Identity:  Identity{User: "alice", Email: "alice@example.com", Groups: []string{"staff", "pilot"}},
		ID:        id,
		Factor:    "password",
		IssuedAt:  k.clock.Unix(),
		ExpiresAt: k.clock.Add(8 * time.Hour).Unix(),
		CSRF:      "csrf",
		Realm:     k.RealmID(),
		Trust:     trust,
		DeviceID:  deviceID,
	}
	if trust != "" {
		s.PolicyHash, s.TrustExpiresAt = "policy", k.clock.Add(12*time.Hour).Unix()
	}
	return s
}

// encodeSession returns the cookie value of s under k's keys.
func (k *testKeeper) encodeSession(t testing.TB, s *Session) string {
	t.Helper()
	value, err := k.codec.Encode(CookieBase, s)
	if err != nil {
		t.Fatal(err)
	}
	return value
}

// signedInRequest checks a request carrying the session cookie value, as
// the gate does first on every request, and reports whether it found a
// session.
func (k *testKeeper) signedInRequest(value string) (*httptest.ResponseRecorder, bool) {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	r.AddCookie(&http.Cookie{Name: CookieBase, Value: value})
	w := httptest.NewRecorder()
	return w, k.Check(w, r) != nil
}

// clearsSession reports whether resp clears the session cookie.
func clearsSession(resp *http.Response) bool {
	for _, c := range resp.Cookies() {
		if strings.TrimPrefix(c.Name, hostPrefix) == CookieBase && c.MaxAge < 0 {
			return true
		}
	}
	return false
}
