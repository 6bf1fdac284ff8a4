package assertion

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/web"
)

// DefaultHeader is the request header that carries the assertion when none
// is configured. It is stripped from every incoming request, like the
// default identity headers, whether assertions are on or not.
const DefaultHeader = "X-Trustgate-Assertion"

// Assertion limits and timings.
const (
	// DefaultLifetime is how long an assertion is valid by default.
	DefaultLifetime = time.Minute
	// MaxLifetime bounds Config.Lifetime, so that a key taken out of use
	// can leave the published key set soon after.
	MaxLifetime = time.Hour
	// SigningKeyPropagationDelay is how long a rotated key is only published
	// before it signs. It covers an instance's refresh of the keys (every
	// 30s) and an upstream's cached copy of the key set (jwksMaxAge), so
	// no upstream sees a token whose key it cannot find. Once replaced, a
	// key stays published for MaxLifetime plus this delay (for instances
	// that learn of the new key late), so every token it signed still
	// verifies until it expires.
	SigningKeyPropagationDelay = 10 * time.Minute
	// defaultCacheSize is the default of Config.CacheSize.
	defaultCacheSize = 10000
)

// Config configures the signed upstream assertion of a site.
type Config struct {
	// Keys signs the assertions and lists the published keys; one is shared
	// by every site using a store.
	Keys *SigningKeys
	// Header is the request header that carries the token.
	// Default: DefaultHeader.
	Header string
	// Lifetime is how long a token is valid (exp - iat), at most
	// MaxLifetime; it never outlives the session.
	// Default: DefaultLifetime.
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

// Subject is what an assertion speaks for: a signed-in session, its
// identity and its device trust.
type Subject struct {
	// Session is the session's ID; a cached token is never shared between
	// sessions.
	Session string
	User    string
	Email   string
	Groups  []string
	// DeviceID, Trust and Failed are the session's device trust: the
	// device that vouched, the policy's status and the failed reasons.
	DeviceID string
	Trust    string
	Failed   []string
	// Expires is the end of the session, which no token outlives.
	Expires time.Time
}

// Signer makes a site's assertions, and keeps each one for reuse by later
// requests of the same session.
type Signer struct {
	cfg Config
	// header is cfg.Header in canonical form, to set without allocating.
	header string
	cache  *lru.Cache[cacheKey, signed]
}

// cacheKey identifies what a cached token says: a session never changes,
// and the trust and policy are part of it; the host and scheme make the
// default issuer.
type cacheKey struct {
	session, trust, policyHash, host string
	https                            bool
}

// signed is a cached token.
type signed struct {
	token string
	// keyID is the key that signed it; after a rotation the token is
	// signed again with the new key.
	keyID string
	// refreshAt is half way through the token's life.
	refreshAt time.Time
}

// NewSigner checks cfg and fills in its defaults; identityHeaders are the
// names the header may not take. A nil cfg means no assertion, and returns
// nil.
func NewSigner(cfg *Config, identityHeaders []string) (*Signer, error) {
	if cfg == nil {
		return nil, nil
	}
	c := *cfg
	if c.Keys == nil {
		return nil, errors.New("upstream assertion: no signing keys")
	}
	if c.Header == "" {
		c.Header = DefaultHeader
	}
	for _, name := range identityHeaders {
		if web.SameHeaderName(name, c.Header) {
			return nil, fmt.Errorf("upstream assertion: header %s is also an identity header", c.Header)
		}
	}
	if c.Lifetime == 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.Lifetime < time.Second || c.Lifetime > MaxLifetime {
		return nil, fmt.Errorf("upstream assertion: lifetime %s is not between 1s and %s", c.Lifetime, MaxLifetime)
	}
	if c.CacheSize <= 0 {
		c.CacheSize = defaultCacheSize
	}
	cache, err := lru.New[cacheKey, signed](c.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("upstream assertion: %w", err)
	}
	return &Signer{cfg: c, header: http.CanonicalHeaderKey(c.Header), cache: cache}, nil
}

// Headers returns the header names that the gate strips from every
// incoming request for the assertion: the default one always, and the
// configured one. A nil Signer (no assertion) strips the default one.
func (a *Signer) Headers() []string {
	if a == nil || web.SameHeaderName(a.header, DefaultHeader) {
		return []string{DefaultHeader}
	}
	return []string{DefaultHeader, a.header}
}

// Header is the canonical name of the header that carries the token.
func (a *Signer) Header() string { return a.header }

// Token returns the assertion for s at now: a cached one while it is in the
// first half of its life and was signed by the key that signs now, else a
// new one.
func (a *Signer) Token(r *http.Request, s *Subject, policyHash string, mode policy.Mode, now time.Time) (string, error) {
	key := cacheKey{session: s.Session, trust: s.Trust, policyHash: policyHash, host: r.Host, https: r.TLS != nil}
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
	a.cache.Add(key, signed{token: token, keyID: signing.id, refreshAt: issued.Add(expires.Sub(issued) / 2)})
	return token, nil
}

// claims returns the claims of a new token for s at now.
func (a *Signer) claims(r *http.Request, s *Subject, mode policy.Mode, now time.Time) Claims {
	issuer := a.cfg.Issuer
	if issuer == "" {
		issuer = origin(r)
	}
	audience := a.cfg.Audience
	if audience == "" {
		audience = issuer
	}
	issued := now.Truncate(time.Second)
	expires := issued.Add(a.cfg.Lifetime)
	if s.Expires.Before(expires) {
		expires = s.Expires
	}
	return Claims{
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

// origin is the origin r came to (scheme://host[:port]).
func origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
