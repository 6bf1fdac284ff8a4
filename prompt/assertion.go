package prompt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	lru "github.com/hashicorp/golang-lru/v2"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// The signed upstream assertion is a short-lived JWT (ES256) that the gate
// sets on every request it lets through, for upstreams that can verify it
// rather than trust plain identity headers. Its keys are shared by every
// instance through the store and published at JWKSPath.

// DefaultAssertionHeader is the request header that carries the assertion
// when none is configured. It is stripped from every incoming request, like
// the default identity headers, whether assertions are on or not.
const DefaultAssertionHeader = "X-Trustgate-Assertion"

// JWKSPath is where the gate serves the public signing keys.
const JWKSPath = ReservedPrefix + "jwks.json"

// Assertion limits and timings.
const (
	// DefaultAssertionLifetime is how long an assertion is valid by default.
	DefaultAssertionLifetime = time.Minute
	// MaxAssertionLifetime bounds Assertion.Lifetime, so that a key taken
	// out of use can leave the published key set soon after.
	MaxAssertionLifetime = time.Hour
	// SigningKeyPropagationDelay is how long a rotated key is only published
	// before it signs. It covers an instance's refresh of the keys (every
	// 30s) and an upstream's cached copy of the key set (jwksMaxAge), so
	// no upstream sees a token whose key it cannot find. Once replaced, a
	// key stays published for MaxAssertionLifetime plus this delay (for
	// instances that learn of the new key late), so every token it signed
	// still verifies until it expires.
	SigningKeyPropagationDelay = 10 * time.Minute
	// jwksMaxAge is how long (seconds) an upstream may cache the key set.
	jwksMaxAge = 300
	// defaultAssertionCacheSize is the default of Assertion.CacheSize.
	defaultAssertionCacheSize = 10000
)

// Assertion configures the signed upstream assertion of a site.
type Assertion struct {
	// Keys signs the assertions and lists the published keys; one is shared
	// by every site using a store.
	Keys *SigningKeys
	// Header is the request header that carries the token.
	// Default: DefaultAssertionHeader.
	Header string
	// Lifetime is how long a token is valid (exp - iat), at most
	// MaxAssertionLifetime; it never outlives the session.
	// Default: DefaultAssertionLifetime.
	Lifetime time.Duration
	// Issuer is the iss claim. Default: the origin the request came to
	// (scheme://host[:port]).
	Issuer string
	// Audience is the aud claim. Default: the issuer.
	Audience string
	// CacheSize is how many signed tokens are kept for reuse, one per
	// session and trust state. Default: 10000.
	CacheSize int
}

// AssertionClaims are the claims of the upstream assertion. iss, sub, aud,
// exp, nbf, iat and jti are the registered claims; sub is the user name.
type AssertionClaims struct {
	jwt.Claims
	// Email is the user's email address, when known.
	Email string `json:"email,omitempty"`
	// Groups are the user's groups.
	Groups []string `json:"groups,omitempty"`
	// DeviceID is the mobile device that vouched for the access device, if
	// any.
	DeviceID string `json:"device_id,omitempty"`
	// Trust is the access device's trust status: trusted, not_trusted or
	// unknown (always unknown in mode off).
	Trust string `json:"trust"`
	// Mode is the site's policy mode: off, check or block.
	Mode string `json:"mode"`
	// Failed are the reason codes of the requirements the device failed,
	// such as no_screen_lock.
	Failed []string `json:"failed,omitempty"`
}

// Trust claim values.
const (
	AssertionTrusted    = "trusted"
	AssertionNotTrusted = "not_trusted"
	AssertionUnknown    = "unknown"
)

// trustClaim turns a session's trust status into the claim's vocabulary,
// which has no space in it.
func trustClaim(status string) string {
	switch policy.Status(status) {
	case policy.Trusted:
		return AssertionTrusted
	case policy.NotTrusted:
		return AssertionNotTrusted
	}
	return AssertionUnknown
}

// NewSigningKey makes a random ECDSA P-256 signing key created at created
// that signs from activates on: created for the first key of a store, and
// created + SigningKeyPropagationDelay for a rotation.
func NewSigningKey(created, activates time.Time) (store.SigningKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("generating signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, fmt.Errorf("encoding signing key: %w", err)
	}
	id := make([]byte, 8)
	rand.Read(id) // never fails since Go 1.24
	return store.SigningKey{
		ID:         hex.EncodeToString(id),
		PrivateKey: der,
		Created:    created.UTC(),
		Activates:  activates.UTC(),
	}, nil
}

// SigningKeys is the set of keys that sign assertions: the newest key whose
// activation time has come signs, and every key is published until the
// tokens it may have signed have expired. It is safe for concurrent use and
// its keys can be replaced while it serves.
type SigningKeys struct {
	mu sync.RWMutex
	// keys are newest first, in the store's order.
	keys []*signingKey
}

// signingKey is one parsed key, ready to sign.
type signingKey struct {
	id         string
	activates  time.Time
	public     jose.JSONWebKey
	signer     jose.Signer
	privateDER []byte // to tell a changed key from an unchanged one
}

// NewSigningKeys returns a key set for keys, newest first.
func NewSigningKeys(keys []store.SigningKey) (*SigningKeys, error) {
	k := new(SigningKeys)
	if err := k.SetKeys(keys); err != nil {
		return nil, err
	}
	return k, nil
}

// SetKeys replaces the keys (newest first). Keys it already holds are
// reused, so refreshing from the store every few seconds costs little.
func (k *SigningKeys) SetKeys(keys []store.SigningKey) error {
	if len(keys) == 0 {
		return errors.New("no signing keys")
	}
	k.mu.RLock()
	held := make(map[string]*signingKey, len(k.keys))
	for _, sk := range k.keys {
		held[sk.id] = sk
	}
	k.mu.RUnlock()
	parsed := make([]*signingKey, 0, len(keys))
	for _, key := range keys {
		if sk := held[key.ID]; sk != nil && string(sk.privateDER) == string(key.PrivateKey) && sk.activates.Equal(key.Activates) {
			parsed = append(parsed, sk)
			continue
		}
		sk, err := parseSigningKey(key)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", key.ID, err)
		}
		parsed = append(parsed, sk)
	}
	k.mu.Lock()
	k.keys = parsed
	k.mu.Unlock()
	return nil
}

func parseSigningKey(key store.SigningKey) (*signingKey, error) {
	if key.ID == "" {
		return nil, errors.New("no key ID")
	}
	parsed, err := x509.ParsePKCS8PrivateKey(key.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("parsing private key: %w", err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 key")
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: priv, KeyID: key.ID, Algorithm: string(jose.ES256)}},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		return nil, fmt.Errorf("making signer: %w", err)
	}
	return &signingKey{
		id:         key.ID,
		activates:  key.Activates,
		public:     jose.JSONWebKey{Key: &priv.PublicKey, KeyID: key.ID, Algorithm: string(jose.ES256), Use: "sig"},
		signer:     signer,
		privateDER: key.PrivateKey,
	}, nil
}

// KeyIDs returns the IDs of every key held, newest first.
func (k *SigningKeys) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, len(k.keys))
	for i, sk := range k.keys {
		ids[i] = sk.id
	}
	return ids
}

// SigningKeyID returns the ID of the key that signs at now.
func (k *SigningKeys) SigningKeyID(now time.Time) string {
	return k.active(now).id
}

// active returns the newest key whose activation has come, or the oldest
// key when none has (a store whose keys all came from a clock running
// ahead).
func (k *SigningKeys) active(now time.Time) *signingKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	for _, sk := range k.keys {
		if !sk.activates.After(now) {
			return sk
		}
	}
	return k.keys[len(k.keys)-1]
}

// PublishedKeyIDs returns the IDs of the keys published at now, newest
// first.
func (k *SigningKeys) PublishedKeyIDs(now time.Time) []string {
	var ids []string
	for _, pk := range k.published(now) {
		ids = append(ids, pk.KeyID)
	}
	return ids
}

// published returns the public keys an upstream needs at now: those not
// active yet, the active one, and older ones while a token they signed may
// still be valid. An older key stopped signing once a newer one activated,
// so it is kept until the earliest activation among the newer keys plus
// MaxAssertionLifetime and SigningKeyPropagationDelay.
func (k *SigningKeys) published(now time.Time) []jose.JSONWebKey {
	k.mu.RLock()
	defer k.mu.RUnlock()
	keys := make([]jose.JSONWebKey, 0, len(k.keys))
	var replacedAt time.Time // earliest activation among newer keys
	for i, sk := range k.keys {
		if i == 0 || now.Before(replacedAt.Add(MaxAssertionLifetime+SigningKeyPropagationDelay)) {
			keys = append(keys, sk.public)
		}
		if i == 0 || sk.activates.Before(replacedAt) {
			replacedAt = sk.activates
		}
	}
	return keys
}

// JWKS returns the published public keys at now as a JSON Web Key Set.
func (k *SigningKeys) JWKS(now time.Time) ([]byte, error) {
	return json.Marshal(jose.JSONWebKeySet{Keys: k.published(now)})
}

// assertionSigner makes a gate's assertions, and keeps each one for reuse
// by later requests of the same session, so the hot path signs only when a
// token is half way through its life.
type assertionSigner struct {
	cfg Assertion
	// header is cfg.Header in canonical form, to set without allocating.
	header string
	cache  *lru.Cache[assertionCacheKey, signedAssertion]
}

// assertionCacheKey identifies what a cached token says: a session cookie
// never changes, and the trust and policy are part of it; the host and
// scheme make the default issuer.
type assertionCacheKey struct {
	session, trust, policyHash, host string
	https                            bool
}

// signedAssertion is a cached token.
type signedAssertion struct {
	token string
	// keyID is the key that signed it; after a rotation the token is
	// signed again with the new key.
	keyID string
	// refreshAt is half way through the token's life.
	refreshAt time.Time
}

// newAssertionSigner checks cfg and fills in its defaults; nil cfg means no
// assertion, and returns nil.
func newAssertionSigner(cfg *Assertion, identity IdentityHeaders) (*assertionSigner, error) {
	if cfg == nil {
		return nil, nil
	}
	c := *cfg
	if c.Keys == nil {
		return nil, errors.New("upstream assertion: no signing keys")
	}
	if c.Header == "" {
		c.Header = DefaultAssertionHeader
	}
	for _, name := range identity.names() {
		if sameFoldedName(name, c.Header) {
			return nil, fmt.Errorf("upstream assertion: header %s is also an identity header", c.Header)
		}
	}
	if c.Lifetime == 0 {
		c.Lifetime = DefaultAssertionLifetime
	}
	if c.Lifetime < time.Second || c.Lifetime > MaxAssertionLifetime {
		return nil, fmt.Errorf("upstream assertion: lifetime %s is not between 1s and %s", c.Lifetime, MaxAssertionLifetime)
	}
	if c.CacheSize <= 0 {
		c.CacheSize = defaultAssertionCacheSize
	}
	cache, err := lru.New[assertionCacheKey, signedAssertion](c.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("upstream assertion: %w", err)
	}
	return &assertionSigner{cfg: c, header: http.CanonicalHeaderKey(c.Header), cache: cache}, nil
}

// headers returns the header names that the gate strips from every
// incoming request for the assertion: the default one always, and the
// configured one.
func (a *assertionSigner) headers() []string {
	if a == nil || sameFoldedName(a.header, DefaultAssertionHeader) {
		return []string{DefaultAssertionHeader}
	}
	return []string{DefaultAssertionHeader, a.header}
}

// token returns the assertion for s at now: a cached one while it is in the
// first half of its life and was signed by the key that signs now, else a
// new one.
func (a *assertionSigner) token(r *http.Request, s *Session, policyHash string, mode policy.Mode, now time.Time) (string, error) {
	key := assertionCacheKey{session: s.ID, trust: s.Trust, policyHash: policyHash, host: r.Host, https: r.TLS != nil}
	signing := a.cfg.Keys.active(now)
	if cached, ok := a.cache.Get(key); ok && cached.keyID == signing.id && now.Before(cached.refreshAt) {
		return cached.token, nil
	}
	claims := a.claims(r, s, mode, now)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encoding assertion claims: %w", err)
	}
	jws, err := signing.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing assertion with key %s: %w", signing.id, err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serializing assertion: %w", err)
	}
	issued, expires := claims.IssuedAt.Time(), claims.Expiry.Time()
	a.cache.Add(key, signedAssertion{token: token, keyID: signing.id, refreshAt: issued.Add(expires.Sub(issued) / 2)})
	return token, nil
}

// claims returns the claims of a new token for s at now.
func (a *assertionSigner) claims(r *http.Request, s *Session, mode policy.Mode, now time.Time) AssertionClaims {
	issuer := a.cfg.Issuer
	if issuer == "" {
		issuer = requestOrigin(r)
	}
	audience := a.cfg.Audience
	if audience == "" {
		audience = issuer
	}
	issued := now.Truncate(time.Second)
	expires := issued.Add(a.cfg.Lifetime)
	if end := s.Expires(); end.Before(expires) {
		expires = end
	}
	return AssertionClaims{
		Claims: jwt.Claims{
			Issuer:    issuer,
			Subject:   s.User,
			Audience:  jwt.Audience{audience},
			Expiry:    jwt.NewNumericDate(expires),
			NotBefore: jwt.NewNumericDate(issued),
			IssuedAt:  jwt.NewNumericDate(issued),
			ID:        secret.Token(),
		},
		Email:    s.Email,
		Groups:   s.Groups,
		DeviceID: s.DeviceID,
		Trust:    trustClaim(s.Trust),
		Mode:     string(mode),
		Failed:   s.Failed,
	}
}

// mode returns the site's policy mode.
func (g *Gate) mode() policy.Mode {
	if g.cfg.Device == nil {
		return policy.ModeOff
	}
	return g.cfg.Device.Policy.Mode
}

// setAssertion sets the signed assertion for s on r, when the site has one.
// When it cannot sign, it answers 500 and reports false: an upstream that
// relies on the assertion must not get a request without it.
func (g *Gate) setAssertion(w http.ResponseWriter, r *http.Request, s *Session) bool {
	if g.assertion == nil {
		return true
	}
	token, err := g.assertion.token(r, s, g.policyHash, g.mode(), g.cfg.Now())
	if err != nil {
		g.cfg.Logger.Error("signing the upstream assertion", zap.String("user", s.User), zap.Error(err))
		if !web.WantsPage(r) {
			web.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "the gateway could not sign the request"})
			return false
		}
		web.SecurityHeaders(w)
		g.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong", "The gateway could not pass your request on. Please try again later.", "")
		return false
	}
	r.Header[g.assertion.header] = []string{token}
	return true
}

// serveJWKS serves the published signing keys, for upstreams to verify the
// assertion with. They are public; upstreams may cache them for a few
// minutes, which SigningKeyPropagationDelay allows for.
func (g *Gate) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if g.assertion == nil {
		g.renderMessage(w, r, http.StatusNotFound, "Not found", "There is no such page on this gateway.", "")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		web.WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		return
	}
	body, err := g.assertion.cfg.Keys.JWKS(g.cfg.Now())
	if err != nil {
		g.cfg.Logger.Error("encoding the signing keys", zap.Error(err))
		web.WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", jwksMaxAge))
	_, _ = w.Write(body)
}
