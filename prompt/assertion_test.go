package prompt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// assertionBase is the test clock's start: whole seconds, in UTC.
var assertionBase = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// assertionGate is a gate that signs assertions, on a clock the test moves.
type assertionGate struct {
	*Gate
	now   time.Time
	keys  *assertion.SigningKeys
	codec *session.CookieCodec
	cache *device.TrustCache
}

// newAssertionGate returns a gate in mode (no device config in mode off)
// that signs with keys (one new key when nil) under settings a; a nil a
// makes a site without assertions.
func newAssertionGate(t testing.TB, mode policy.Mode, keys *assertion.SigningKeys, a *assertion.Config) *assertionGate {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ag := &assertionGate{now: assertionBase}
	clock := func() time.Time { return ag.now }
	if ag.codec, err = session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(assertionBase.Add(-time.Hour))}, clock); err != nil {
		t.Fatal(err)
	}
	if keys == nil {
		key, err := assertion.NewSigningKey(assertionBase.Add(-time.Hour), assertionBase.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if keys, err = assertion.NewSigningKeys([]store.SigningKey{key}); err != nil {
			t.Fatal(err)
		}
	}
	ag.keys = keys
	if a != nil {
		a.Keys = keys
	}
	users, err := signin.ParseUsers([]byte(`{"users":[{"username":"alice","password_hash":"$2a$04$abcdefghijklmnopqrstuu5s2z0JkHPnhL3ZsLeX6bX6SaWO0C8wK"}]}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Users: users, Store: st, Cookies: ag.codec, Assertion: a, Now: clock, Headers: DefaultIdentityHeaders()}
	if mode != policy.ModeOff {
		ag.cache, _ = device.NewTrustCache(100, clock)
		cfg.Device = &DeviceTrust{
			Policy: policy.Policy{Mode: mode, Integration: policy.Integration{State: policy.All}},
			Cache:  ag.cache,
		}
	}
	if ag.Gate, err = NewGate(cfg); err != nil {
		t.Fatal(err)
	}
	return ag
}

// session returns alice's session as the gate would have issued it, with
// trust status trust ("" in mode off) vouched for by deviceID.
func (ag *assertionGate) session(id, trust, deviceID string, failed ...string) *session.Session {
	s := &session.Session{
		Identity:  session.Identity{User: "alice", Email: "alice@example.com", Groups: []string{"staff", "pilot"}},
		ID:        id,
		Factor:    "password",
		IssuedAt:  ag.now.Unix(),
		ExpiresAt: ag.now.Add(8 * time.Hour).Unix(),
		CSRF:      "csrf",
		Realm:     ag.realmID,
		Trust:     trust,
		DeviceID:  deviceID,
		Failed:    failed,
	}
	if trust != "" {
		s.PolicyHash, s.TrustExpiresAt = ag.policyHash, ag.now.Add(12*time.Hour).Unix()
		if deviceID != "" {
			ag.cache.Put(s.User, deviceID, ag.trustScope, device.TrustDecision{Status: trust, Failed: failed, Expires: time.Unix(s.TrustExpiresAt, 0)})
		}
	}
	return s
}

// request sends a signed-in request for s through the gate and returns the
// request as the upstream would get it, or fails when the gate answered.
func (ag *assertionGate) request(t testing.TB, s *session.Session, header http.Header) *http.Request {
	t.Helper()
	value, err := ag.codec.Encode(session.CookieBase, s)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	for name, values := range header {
		r.Header[name] = values
	}
	r.AddCookie(&http.Cookie{Name: session.CookieBase, Value: value})
	w := httptest.NewRecorder()
	if _, handled := ag.Authenticate(w, r); handled {
		t.Fatalf("gate answered %d instead of letting the request through: %s", w.Code, w.Body)
	}
	return r
}

// jwks fetches the gate's key set as an upstream would.
func (ag *assertionGate) jwks(t *testing.T) (jose.JSONWebKeySet, *httptest.ResponseRecorder) {
	t.Helper()
	w := httptest.NewRecorder()
	ag.Authenticate(w, httptest.NewRequest(http.MethodGet, "http://app.example.com"+JWKSPath, nil))
	var set jose.JSONWebKeySet
	if w.Code == http.StatusOK {
		if err := json.Unmarshal(w.Body.Bytes(), &set); err != nil {
			t.Fatalf("key set is not JSON: %v\n%s", err, w.Body)
		}
	}
	return set, w
}

// verifyAssertion verifies token the way an upstream does: ES256 only, the
// key named by kid in the gate's key set, then iss, aud and time.
func verifyAssertion(t *testing.T, set jose.JSONWebKeySet, token, issuer, audience string, at time.Time) (assertion.Claims, string) {
	t.Helper()
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatalf("parsing assertion: %v", err)
	}
	h := parsed.Headers[0]
	if typ := h.ExtraHeaders[jose.HeaderType]; typ != "JWT" {
		t.Errorf("typ header = %v, want JWT", typ)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the key set (%d keys)", h.KeyID, len(set.Keys))
	}
	var claims assertion.Claims
	if err := parsed.Claims(keys[0].Public(), &claims); err != nil {
		t.Fatalf("verifying assertion signature: %v", err)
	}
	if err := claims.ValidateWithLeeway(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{audience}, Time: at}, 0); err != nil {
		t.Fatalf("validating assertion claims: %v", err)
	}
	return claims, h.KeyID
}

func TestAssertionCarriesIdentityAndTrustClaims(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mode     policy.Mode
		trust    string
		deviceID string
		failed   []string
		want     assertion.Claims
	}{
		{
			name: "password only in mode off",
			mode: policy.ModeOff,
			want: assertion.Claims{Trust: "unknown", Mode: "off"},
		},
		{
			name: "trusted device in mode block", mode: policy.ModeBlock,
			trust: "trusted", deviceID: "dev-1",
			want: assertion.Claims{Trust: "trusted", Mode: "block", DeviceID: "dev-1"},
		},
		{
			name: "untrusted device in mode check", mode: policy.ModeCheck,
			trust: "not trusted", deviceID: "dev-2", failed: []string{"no_screen_lock", "out_of_date"},
			want: assertion.Claims{Trust: "not_trusted", Mode: "check", DeviceID: "dev-2", Failed: []string{"no_screen_lock", "out_of_date"}},
		},
		{
			name: "desktop browser without a device in mode check", mode: policy.ModeCheck,
			trust: "unknown",
			want:  assertion.Claims{Trust: "unknown", Mode: "check"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ag := newAssertionGate(t, tt.mode, nil, &assertion.Config{})
			r := ag.request(t, ag.session("s1", tt.trust, tt.deviceID, tt.failed...), nil)
			token := r.Header.Get(assertion.DefaultHeader)
			if token == "" {
				t.Fatalf("no %s header on the upstream request", assertion.DefaultHeader)
			}
			set, _ := ag.jwks(t)
			got, kid := verifyAssertion(t, set, token, "http://app.example.com", "http://app.example.com", ag.now)
			if kid != ag.keys.KeyIDs()[0] {
				t.Errorf("kid = %q, want %q", kid, ag.keys.KeyIDs()[0])
			}
			if got.Subject != "alice" || got.Email != "alice@example.com" || !slices.Equal(got.Groups, []string{"staff", "pilot"}) {
				t.Errorf("identity claims = sub %q email %q groups %v", got.Subject, got.Email, got.Groups)
			}
			if got.Trust != tt.want.Trust || got.Mode != tt.want.Mode || got.DeviceID != tt.want.DeviceID || !slices.Equal(got.Failed, tt.want.Failed) {
				t.Errorf("trust claims = trust %q mode %q device_id %q failed %v, want %q %q %q %v",
					got.Trust, got.Mode, got.DeviceID, got.Failed, tt.want.Trust, tt.want.Mode, tt.want.DeviceID, tt.want.Failed)
			}
			if got.ID == "" {
				t.Error("no jti")
			}
			if !got.IssuedAt.Time().Equal(ag.now) || !got.NotBefore.Time().Equal(ag.now) || !got.Expiry.Time().Equal(ag.now.Add(time.Minute)) {
				t.Errorf("iat %v nbf %v exp %v, want now, now and now + 60s (now %v)", got.IssuedAt.Time(), got.NotBefore.Time(), got.Expiry.Time(), ag.now)
			}
		})
	}
}

func TestAssertionUsesConfiguredHeaderIssuerAudienceAndLifetime(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{
		Header: "X-App-Jwt", Issuer: "https://gw.example.com", Audience: "https://app.internal", Lifetime: 5 * time.Minute,
	})
	r := ag.request(t, ag.session("s1", "", ""), nil)
	if r.Header.Get(assertion.DefaultHeader) != "" {
		t.Errorf("default header set although another is configured")
	}
	set, _ := ag.jwks(t)
	got, _ := verifyAssertion(t, set, r.Header.Get("X-App-Jwt"), "https://gw.example.com", "https://app.internal", ag.now)
	if !got.Expiry.Time().Equal(ag.now.Add(5 * time.Minute)) {
		t.Errorf("exp = %v, want now + 5m", got.Expiry.Time())
	}
}

func TestAssertionExpiresWhenItsTimeIsUp(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{})
	r := ag.request(t, ag.session("s1", "", ""), nil)
	set, _ := ag.jwks(t)
	claims, _ := verifyAssertion(t, set, r.Header.Get(assertion.DefaultHeader), "http://app.example.com", "http://app.example.com", ag.now)
	late := jwt.Expected{Issuer: "http://app.example.com", Time: ag.now.Add(61 * time.Second)}
	if err := claims.ValidateWithLeeway(late, 0); err == nil {
		t.Error("assertion still valid 61s after it was issued with a 60s lifetime")
	}
}

func TestAssertionNeverOutlivesTheSession(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{Lifetime: 10 * time.Minute})
	s := ag.session("s1", "", "")
	s.ExpiresAt = ag.now.Add(90 * time.Second).Unix()
	r := ag.request(t, s, nil)
	set, _ := ag.jwks(t)
	claims, _ := verifyAssertion(t, set, r.Header.Get(assertion.DefaultHeader), "http://app.example.com", "http://app.example.com", ag.now)
	if got := claims.Expiry.Time(); !got.Equal(s.Expires()) {
		t.Errorf("exp = %v, want the session's end %v", got, s.Expires())
	}
}

func TestSpoofedAssertionHeadersAreStripped(t *testing.T) {
	t.Parallel()
	spoofed := http.Header{
		"X-Trustgate-Assertion": {"forged"},
		"X_trustgate_assertion": {"forged"},
		"X-TRUSTGATE-ASSERTION": {"forged"},
		"X.Trustgate.Assertion": {"forged"},
		"X-App-Jwt":             {"forged"},
		"X_app_jwt":             {"forged"},
	}
	t.Run("configured header", func(t *testing.T) {
		ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{Header: "X-App-Jwt"})
		r := ag.request(t, ag.session("s1", "", ""), spoofed.Clone())
		for name, values := range r.Header {
			if slices.Contains(values, "forged") {
				t.Errorf("spoofed header %s reached the upstream", name)
			}
		}
		if got := r.Header.Values("X-App-Jwt"); len(got) != 1 || strings.Count(got[0], ".") != 2 {
			t.Errorf("X-App-Jwt = %q, want exactly the gate's token", got)
		}
	})
	t.Run("assertion off", func(t *testing.T) {
		ag := newAssertionGate(t, policy.ModeOff, nil, nil)
		r := ag.request(t, ag.session("s1", "", ""), spoofed.Clone())
		for name := range r.Header {
			if sameFoldedName(name, assertion.DefaultHeader) {
				t.Errorf("spoofed %s reached the upstream of a site without assertions", name)
			}
		}
	})
}

func TestAssertionIsReusedUntilHalfItsLife(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeCheck, nil, &assertion.Config{})
	s := ag.session("s1", "trusted", "dev-1")
	first := ag.request(t, s, nil).Header.Get(assertion.DefaultHeader)

	ag.now = ag.now.Add(29 * time.Second)
	if again := ag.request(t, s, nil).Header.Get(assertion.DefaultHeader); again != first {
		t.Error("a second request 29s later got a new token; want the cached one")
	}
	other := ag.request(t, ag.session("s2", "trusted", "dev-1"), nil).Header.Get(assertion.DefaultHeader)
	if other == first {
		t.Error("another session got the first session's token")
	}
	untrusted := ag.session("s1", "not trusted", "dev-1", "no_screen_lock")
	if got := ag.request(t, untrusted, nil).Header.Get(assertion.DefaultHeader); got == first {
		t.Error("the same session with another trust status got the old token")
	}

	ag.now = ag.now.Add(time.Second) // 30s: half of the 60s lifetime
	renewed := ag.request(t, s, nil).Header.Get(assertion.DefaultHeader)
	if renewed == first {
		t.Fatal("token not renewed half way through its life")
	}
	set, _ := ag.jwks(t)
	claims, _ := verifyAssertion(t, set, renewed, "http://app.example.com", "http://app.example.com", ag.now)
	if !claims.IssuedAt.Time().Equal(ag.now) {
		t.Errorf("renewed token issued at %v, want %v", claims.IssuedAt.Time(), ag.now)
	}
}

func TestRotatedKeySignsOnceActiveAndOldKeyAgesOut(t *testing.T) {
	t.Parallel()
	old, err := assertion.NewSigningKey(assertionBase.Add(-24*time.Hour), assertionBase.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := assertion.NewSigningKeys([]store.SigningKey{old})
	if err != nil {
		t.Fatal(err)
	}
	ag := newAssertionGate(t, policy.ModeOff, keys, &assertion.Config{})
	s := ag.session("s1", "", "")
	before := ag.request(t, s, nil).Header.Get(assertion.DefaultHeader)

	// Rotate: the new key is published at once but signs only after the
	// propagation delay.
	rotated, err := assertion.NewSigningKey(ag.now, ag.now.Add(assertion.SigningKeyPropagationDelay))
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.SetKeys([]store.SigningKey{rotated, old}); err != nil {
		t.Fatal(err)
	}
	set, _ := ag.jwks(t)
	if ids := keyIDsOf(set); !slices.Equal(ids, []string{rotated.ID, old.ID}) {
		t.Fatalf("published right after rotation: %v, want the new and the old key", ids)
	}
	if _, kid := verifyAssertion(t, set, ag.request(t, ag.session("s2", "", ""), nil).Header.Get(assertion.DefaultHeader), "http://app.example.com", "http://app.example.com", ag.now); kid != old.ID {
		t.Errorf("a token made during propagation was signed by %s, want the old key %s", kid, old.ID)
	}

	// Once active, the new key signs; even a session's cached token is
	// signed again. A token of the old key still verifies (checked at the
	// time it was valid).
	ag.now = rotated.Activates
	after := ag.request(t, s, nil).Header.Get(assertion.DefaultHeader)
	set, _ = ag.jwks(t)
	if _, kid := verifyAssertion(t, set, after, "http://app.example.com", "http://app.example.com", ag.now); kid != rotated.ID {
		t.Errorf("after activation the token was signed by %s, want %s", kid, rotated.ID)
	}
	if _, kid := verifyAssertion(t, set, before, "http://app.example.com", "http://app.example.com", ag.now.Add(-assertion.SigningKeyPropagationDelay)); kid != old.ID {
		t.Errorf("old token's kid = %s", kid)
	}

	// The old key stays published while a token it signed may be valid,
	// and then goes.
	ag.now = rotated.Activates.Add(assertion.MaxLifetime + assertion.SigningKeyPropagationDelay - time.Second)
	if set, _ = ag.jwks(t); !slices.Equal(keyIDsOf(set), []string{rotated.ID, old.ID}) {
		t.Errorf("published just before the old key ages out: %v", keyIDsOf(set))
	}
	ag.now = ag.now.Add(time.Second)
	if set, _ = ag.jwks(t); !slices.Equal(keyIDsOf(set), []string{rotated.ID}) {
		t.Errorf("published after the old key aged out: %v, want only %s", keyIDsOf(set), rotated.ID)
	}
}

func keyIDsOf(set jose.JSONWebKeySet) []string {
	ids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		ids[i] = k.KeyID
	}
	return ids
}

func TestJWKSServesOnlyPublicKeys(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{})
	set, w := ag.jwks(t)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", JWKSPath, w.Code)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", cc)
	}
	if strings.Contains(w.Body.String(), `"d"`) {
		t.Errorf("key set holds a private key: %s", w.Body)
	}
	if len(set.Keys) != 1 || !set.Keys[0].IsPublic() || set.Keys[0].Algorithm != "ES256" || set.Keys[0].Use != "sig" {
		t.Errorf("key set = %+v, want one public ES256 signing key", set.Keys)
	}

	post := httptest.NewRecorder()
	ag.Authenticate(post, httptest.NewRequest(http.MethodPost, "http://app.example.com"+JWKSPath, nil))
	if post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST %s: %d, want 405", JWKSPath, post.Code)
	}

	off := newAssertionGate(t, policy.ModeOff, nil, nil)
	if _, w := off.jwks(t); w.Code != http.StatusNotFound {
		t.Errorf("GET %s on a site without assertions: %d, want 404", JWKSPath, w.Code)
	}
}

// Requests keep getting valid tokens while another goroutine refreshes
// the keys from the store, as every instance does every 30s.
func TestAssertionSigningIsSafeWhileKeysRefresh(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, &assertion.Config{})
	stored := []store.SigningKey{}
	for range 2 {
		k, err := assertion.NewSigningKey(assertionBase.Add(-time.Hour), assertionBase.Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, k)
	}
	sessions := make([]*session.Session, 8)
	for i := range sessions {
		sessions[i] = ag.session(fmt.Sprintf("s%d", i), "", "")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if err := ag.keys.SetKeys(stored[i%2:]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	parallelRequests := func(i int) {
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
		for range 50 {
			if err := ag.setAssertion(r, sessions[i]); err != nil {
				t.Errorf("assertion not set: %v", err)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for i := range sessions {
		wg.Go(func() { parallelRequests(i) })
	}
	wg.Wait()
	<-done
}
