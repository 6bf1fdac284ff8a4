package signin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"
	"github.com/trustgate/trustgate/prompt/oidctest"
	"github.com/trustgate/trustgate/prompt/secret"
	"golang.org/x/oauth2"
)

const (
	testClientID     = "trustgate-test"
	testClientSecret = "s3cret-client-value"
	testRedirectURI  = "https://gate.example.test/.trustgate/oidc/callback"
)

// testProvider is the shared test provider (prompt/oidctest), knowing the
// client testClientID.
type testProvider struct{ *oidctest.Provider }

// startProvider starts a provider on addr ("" for any free loopback port);
// middleware runs, in order, before mockoidc's handlers.
func startProvider(t *testing.T, addr string, middleware ...func(http.Handler) http.Handler) *testProvider {
	t.Helper()
	return &testProvider{oidctest.Start(t, testClientID, testClientSecret, addr, middleware...)}
}

func (p *testProvider) fastForward(d time.Duration) { p.FastForward(d) }

func (p *testProvider) login(t *testing.T, cfg OIDCConfig) *OIDCLogin {
	t.Helper()
	if cfg.Issuer == "" {
		cfg.Issuer = p.Issuer()
	}
	if cfg.ClientID == "" {
		cfg.ClientID, cfg.ClientSecret = testClientID, testClientSecret
	}
	o, err := NewOIDCLogin(cfg)
	if err != nil {
		t.Fatalf("NewOIDCLogin: %v", err)
	}
	return o
}

// signIn is one authorization request as the gate would remember it in
// the flow cookie, plus the code the provider sent back.
type signIn struct {
	state, nonce, verifier string
	authURL                *url.URL
	code                   string
}

// browser never follows redirects, so the test can read the callback.
var browser = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       10 * time.Second,
}

// signIn drives the browser through the provider as user (nil: mockoidc's
// default user) and returns the code from the redirect back to the gate.
func (p *testProvider) signIn(t *testing.T, o *OIDCLogin, user mockoidc.User) signIn {
	t.Helper()
	if user != nil {
		p.QueueUser(user)
	}
	s := signIn{state: secret.Token(), nonce: secret.Token(), verifier: NewPKCEVerifier()}
	raw, err := o.AuthCodeURL(context.Background(), testRedirectURI, s.state, s.nonce, s.verifier)
	if err != nil {
		t.Fatalf("AuthCodeURL: %v", err)
	}
	if s.authURL, err = url.Parse(raw); err != nil {
		t.Fatal(err)
	}
	resp, err := browser.Get(raw)
	if err != nil {
		t.Fatalf("GET authorization endpoint: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorization endpoint answered %s, want 302", resp.Status)
	}
	callback, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := callback.Scheme + "://" + callback.Host + callback.Path; got != testRedirectURI {
		t.Fatalf("provider redirected to %q, want %q", got, testRedirectURI)
	}
	if got := callback.Query().Get("state"); got != s.state {
		t.Fatalf("callback state = %q, want the state sent", got)
	}
	if s.code = callback.Query().Get("code"); s.code == "" {
		t.Fatal("callback has no code")
	}
	return s
}

func (s signIn) exchange(o *OIDCLogin) (Identity, error) {
	return o.Exchange(context.Background(), testRedirectURI, s.code, s.verifier, s.nonce)
}

// wantReason checks that err is a *LoginError with reason, and that its
// message leaks none of the secrets of the sign-in.
func wantReason(t *testing.T, err error, reason string, secrets ...string) {
	t.Helper()
	var le *LoginError
	if !errors.As(err, &le) {
		t.Fatalf("error = %v (%T), want *LoginError with reason %s", err, err, reason)
	}
	if le.Reason != reason {
		t.Fatalf("reason = %q (%v), want %q", le.Reason, err, reason)
	}
	for _, s := range append(secrets, testClientSecret) {
		if s != "" && strings.Contains(err.Error(), s) {
			t.Fatalf("error message %q contains a secret", err)
		}
	}
}

func TestOIDCLoginWithPKCEReturnsUserEmailAndGroups(t *testing.T) {
	p := startProvider(t, "")
	o := p.login(t, OIDCConfig{Scopes: []string{"openid", "profile", "email", "groups"}})

	s := p.signIn(t, o, &mockoidc.MockUser{
		Subject:           "u-1001",
		Email:             "ada@example.com",
		EmailVerified:     true,
		PreferredUsername: "ada",
		Groups:            []string{"engineering", "pilot"},
	})
	q := s.authURL.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") != oauth2.S256ChallengeFromVerifier(s.verifier) {
		t.Errorf("authorization request has challenge %q (%s), want the S256 challenge of the verifier",
			q.Get("code_challenge"), q.Get("code_challenge_method"))
	}
	if q.Get("nonce") != s.nonce || q.Get("state") != s.state || q.Get("redirect_uri") != testRedirectURI {
		t.Errorf("authorization request = %v, want its nonce, state and redirect_uri", q)
	}
	if strings.Contains(s.authURL.String(), testClientSecret) || q.Has("code_verifier") {
		t.Error("authorization URL carries the client secret or the PKCE verifier")
	}

	id, err := s.exchange(o)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	want := Identity{User: "ada", Email: "ada@example.com", Groups: []string{"engineering", "pilot"}}
	if id.User != want.User || id.Email != want.Email || !slices.Equal(id.Groups, want.Groups) {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
}

// claimsUser is a provider user whose ID token carries arbitrary claims.
type claimsUser struct {
	subject string
	claims  map[string]any
}

func (u claimsUser) ID() string                        { return u.subject }
func (u claimsUser) Userinfo([]string) ([]byte, error) { return json.Marshal(u.claims) }

func (u claimsUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	raw, err := json.Marshal(base)
	if err != nil {
		return nil, err
	}
	claims := jwt.MapClaims{}
	if err := json.Unmarshal(raw, &claims); err != nil {
		return nil, err
	}
	for k, v := range u.claims {
		claims[k] = v
	}
	if u.subject == "" {
		delete(claims, "sub")
	}
	return claims, nil
}

func TestOIDCLoginReadsConfiguredClaims(t *testing.T) {
	p := startProvider(t, "")
	tests := []struct {
		name        string
		userClaim   string
		groupsClaim string
		user        claimsUser
		want        Identity
		wantReason  string
	}{
		{
			name:        "groups claim as array",
			groupsClaim: "roles",
			user:        claimsUser{"s1", map[string]any{"preferred_username": "bob", "roles": []string{"admins", "ops"}, "groups": []string{"ignored"}}},
			want:        Identity{User: "bob", Groups: []string{"admins", "ops"}},
		},
		{
			name:        "groups claim as one string",
			groupsClaim: "role",
			user:        claimsUser{"s2", map[string]any{"preferred_username": "bob", "role": "admins"}},
			want:        Identity{User: "bob", Groups: []string{"admins"}},
		},
		{
			name:      "configured user claim",
			userClaim: "upn",
			user:      claimsUser{"s3", map[string]any{"preferred_username": "bob", "upn": "bob@corp.example", "email": "robert@example.com"}},
			want:      Identity{User: "bob@corp.example", Email: "robert@example.com"},
		},
		{
			name: "default falls back to email",
			user: claimsUser{"s4", map[string]any{"email": "carol@example.com", "email_verified": true}},
			want: Identity{User: "carol@example.com", Email: "carol@example.com"},
		},
		{
			name: "default falls back to sub",
			user: claimsUser{"s5", map[string]any{}},
			want: Identity{User: "s5"},
		},
		{
			name: "unverified email is neither user nor email",
			user: claimsUser{"s6", map[string]any{"email": "mallory@example.com", "email_verified": false}},
			want: Identity{User: "s6"},
		},
		{
			name:       "configured user claim missing",
			userClaim:  "upn",
			user:       claimsUser{"s7", map[string]any{"preferred_username": "bob", "email": "bob@example.com"}},
			wantReason: ReasonMissingClaim,
		},
		{
			name:       "no usable user claim at all",
			user:       claimsUser{"", map[string]any{"preferred_username": ""}},
			wantReason: ReasonMissingClaim,
		},
		{
			name:       "groups claim of another type",
			user:       claimsUser{"s8", map[string]any{"preferred_username": "bob", "groups": map[string]any{"a": 1}}},
			wantReason: ReasonInvalidToken,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := p.login(t, OIDCConfig{UserClaim: tt.userClaim, GroupsClaim: tt.groupsClaim})
			id, err := p.signIn(t, o, tt.user).exchange(o)
			if tt.wantReason != "" {
				wantReason(t, err, tt.wantReason)
				return
			}
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.User != tt.want.User || id.Email != tt.want.Email || !slices.Equal(id.Groups, tt.want.Groups) {
				t.Errorf("identity = %+v, want %+v", id, tt.want)
			}
		})
	}
}

func TestOIDCLoginRefusesTokenWithAnotherNonce(t *testing.T) {
	p := startProvider(t, "")
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	_, err := o.Exchange(context.Background(), testRedirectURI, s.code, s.verifier, secret.Token())
	wantReason(t, err, ReasonInvalidNonce, s.code)
}

func TestOIDCLoginRefusesReplayedCode(t *testing.T) {
	p := startProvider(t, "")
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	if _, err := s.exchange(o); err != nil {
		t.Fatalf("first Exchange: %v", err)
	}
	_, err := s.exchange(o)
	// mockoidc echoes the code in error_description; it must not reach
	// our message.
	wantReason(t, err, ReasonExchangeFailed, s.code)
}

func TestOIDCLoginRefusesWrongPKCEVerifier(t *testing.T) {
	p := startProvider(t, "")
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	wrong := NewPKCEVerifier()
	_, err := o.Exchange(context.Background(), testRedirectURI, s.code, wrong, s.nonce)
	wantReason(t, err, ReasonExchangeFailed, s.code, wrong, s.verifier)
}

func TestOIDCLoginRefusesExpiredToken(t *testing.T) {
	tests := []struct {
		name  string
		setup func(p *testProvider) OIDCConfig
	}{
		{"gateway clock past expiry", func(*testProvider) OIDCConfig {
			return OIDCConfig{Now: func() time.Time { return time.Now().Add(time.Hour) }}
		}},
		{"provider issued it an hour ago", func(p *testProvider) OIDCConfig {
			p.fastForward(-time.Hour)
			return OIDCConfig{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProvider(t, "")
			o := p.login(t, tt.setup(p))
			s := p.signIn(t, o, nil)
			_, err := s.exchange(o)
			wantReason(t, err, ReasonTokenExpired, s.code)
		})
	}
}

// TestOIDCLoginRefusesTokenIssuedForAnotherClient has a second relying
// party ("other-app") whose requests the provider answers as if they came
// from testClientID: it receives a genuine, correctly signed ID token whose
// audience is another client, as a token stolen from another app would be.
func TestOIDCLoginRefusesTokenIssuedForAnotherClient(t *testing.T) {
	const otherClient = "other-app"
	actAsTestClient := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err == nil && r.Form.Get("client_id") == otherClient {
				r.Form.Set("client_id", testClientID)
				if r.Form.Has("client_secret") {
					r.Form.Set("client_secret", testClientSecret)
				}
				q := r.URL.Query()
				if q.Has("client_id") {
					q.Set("client_id", testClientID)
					r.URL.RawQuery = q.Encode()
				}
			}
			next.ServeHTTP(w, r)
		})
	}
	p := startProvider(t, "", actAsTestClient)
	o := p.login(t, OIDCConfig{ClientID: otherClient, ClientSecret: "other-secret"})
	s := p.signIn(t, o, nil)
	_, err := s.exchange(o)
	wantReason(t, err, ReasonInvalidAudience, s.code, "other-secret")
}

func TestOIDCLoginRefusesTokenSignedByUnknownKey(t *testing.T) {
	other, err := mockoidc.RandomKeypair(2048)
	if err != nil {
		t.Fatal(err)
	}
	otherJWKS, err := other.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	publishOtherKey := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.JWKSEndpoint {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(otherJWKS)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	p := startProvider(t, "", publishOtherKey)
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	_, err = s.exchange(o)
	wantReason(t, err, ReasonInvalidToken, s.code)
}

func TestOIDCLoginRefusesTokenResponseWithoutIDToken(t *testing.T) {
	dropIDToken := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				delete(body, "id_token")
				b, _ := json.Marshal(body)
				rec.Body = bytes.NewBuffer(b)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		})
	}
	p := startProvider(t, "", dropIDToken)
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	_, err := s.exchange(o)
	wantReason(t, err, ReasonInvalidToken, s.code)
}

// failing answers 503 on path while down is set.
func failing(path string, down *atomic.Bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == path && down.Load() {
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func TestOIDCLoginReportsFailingTokenEndpointAsProviderUnavailable(t *testing.T) {
	var down atomic.Bool
	p := startProvider(t, "", failing(mockoidc.TokenEndpoint, &down))
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	down.Store(true)
	_, err := s.exchange(o)
	wantReason(t, err, ReasonProviderUnavailable, s.code)
}

func TestOIDCLoginReportsUnreachableKeySetAsProviderUnavailable(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	p := startProvider(t, "", failing(mockoidc.JWKSEndpoint, &down))
	o := p.login(t, OIDCConfig{})
	s := p.signIn(t, o, nil)
	_, err := s.exchange(o)
	wantReason(t, err, ReasonProviderUnavailable, s.code)

	down.Store(false)
	s = p.signIn(t, o, nil)
	if _, err := s.exchange(o); err != nil {
		t.Fatalf("Exchange once the key set is back: %v", err)
	}
}

func TestOIDCLoginRetriesDiscoveryAfterProviderWasDown(t *testing.T) {
	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()

		o, err := NewOIDCLogin(OIDCConfig{Issuer: "http://" + addr + mockoidc.IssuerBase, ClientID: testClientID, ClientSecret: testClientSecret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.AuthCodeURL(context.Background(), testRedirectURI, secret.Token(), secret.Token(), NewPKCEVerifier())
		wantReason(t, err, ReasonProviderUnavailable)
		_, err = o.Exchange(context.Background(), testRedirectURI, "code", NewPKCEVerifier(), secret.Token())
		wantReason(t, err, ReasonProviderUnavailable)

		p := startProvider(t, addr)
		if _, err := p.signIn(t, o, nil).exchange(o); err != nil {
			t.Fatalf("login once the provider is up: %v", err)
		}
	})
	t.Run("discovery answers 503", func(t *testing.T) {
		var down atomic.Bool
		down.Store(true)
		p := startProvider(t, "", failing(mockoidc.DiscoveryEndpoint, &down))
		o := p.login(t, OIDCConfig{})
		_, err := o.AuthCodeURL(context.Background(), testRedirectURI, secret.Token(), secret.Token(), NewPKCEVerifier())
		wantReason(t, err, ReasonProviderUnavailable)

		down.Store(false)
		if _, err := p.signIn(t, o, nil).exchange(o); err != nil {
			t.Fatalf("login once discovery works: %v", err)
		}
	})
}

func TestOIDCLoginDiscoversOnceForConcurrentLogins(t *testing.T) {
	var discoveries atomic.Int32
	countDiscovery := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.DiscoveryEndpoint {
				discoveries.Add(1)
			}
			next.ServeHTTP(w, r)
		})
	}
	p := startProvider(t, "", countDiscovery)
	o := p.login(t, OIDCConfig{})

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := o.AuthCodeURL(context.Background(), testRedirectURI, secret.Token(), secret.Token(), NewPKCEVerifier())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("AuthCodeURL: %v", err)
		}
	}
	if n := discoveries.Load(); n != 1 {
		t.Errorf("discovery fetched %d times, want 1", n)
	}
}

func TestOIDCLoginRefusesIncompleteRequests(t *testing.T) {
	p := startProvider(t, "")
	o := p.login(t, OIDCConfig{})
	ctx := context.Background()
	_, err := o.AuthCodeURL(ctx, testRedirectURI, "", secret.Token(), NewPKCEVerifier())
	wantReason(t, err, ReasonInvalidRequest)
	_, err = o.AuthCodeURL(ctx, testRedirectURI, secret.Token(), "", NewPKCEVerifier())
	wantReason(t, err, ReasonInvalidRequest)
	_, err = o.Exchange(ctx, testRedirectURI, "", NewPKCEVerifier(), secret.Token())
	wantReason(t, err, ReasonExchangeFailed)
	_, err = o.Exchange(ctx, testRedirectURI, "code", NewPKCEVerifier(), "")
	wantReason(t, err, ReasonInvalidNonce)
}

func TestNewOIDCLoginRejectsInvalidConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  OIDCConfig
	}{
		{"missing issuer", OIDCConfig{ClientID: "app"}},
		{"missing client id", OIDCConfig{Issuer: "https://idp.example.com"}},
		{"relative issuer", OIDCConfig{Issuer: "idp.example.com", ClientID: "app"}},
		{"plain http to a remote issuer", OIDCConfig{Issuer: "http://idp.example.com", ClientID: "app"}},
		{"issuer with query", OIDCConfig{Issuer: "https://idp.example.com/?tenant=1", ClientID: "app"}},
		{"negative timeout", OIDCConfig{Issuer: "https://idp.example.com", ClientID: "app", Timeout: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewOIDCLogin(tt.cfg); err == nil {
				t.Error("NewOIDCLogin accepted an invalid config")
			}
		})
	}
	for _, issuer := range []string{"https://idp.example.com/realms/main", "http://127.0.0.1:5556/dex", "http://localhost:8080"} {
		if _, err := NewOIDCLogin(OIDCConfig{Issuer: issuer, ClientID: "app"}); err != nil {
			t.Errorf("NewOIDCLogin(%s): %v", issuer, err)
		}
	}
}

func TestOIDCRandomValuesAreFreshAndURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		for _, v := range []string{secret.Token(), NewPKCEVerifier()} {
			if len(v) != 43 || strings.ContainsAny(v, "+/=") {
				t.Fatalf("random value %q is not 32 bytes of unpadded base64url", v)
			}
			if seen[v] {
				t.Fatalf("random value %q repeated", v)
			}
			seen[v] = true
		}
	}
}
