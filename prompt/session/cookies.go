package session

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/trustgate/trustgate/prompt/store"
)

// CookieCodec signs (HMAC-SHA256) and encrypts (AES-256) the gateway's
// cookies with gorilla/securecookie. It holds several key pairs: the first
// encodes, all of them decode, so keys rotate without signing anybody out.
// It is the one place where cookies are encoded; it is safe for concurrent
// use and its keys can be replaced while it serves.
type CookieCodec struct {
	// now is the clock used to pick the encoding key.
	now func() time.Time

	mu      sync.RWMutex
	codecs  []securecookie.Codec
	ids     []string
	created []time.Time
	// generation counts the key changes, so that what was decoded under
	// keys since removed can be told apart (see cache); keysHash
	// identifies the keys, so that setting the same keys again (the
	// periodic refresh from the store) is not a change.
	generation atomic.Uint64
	keysHash   [sha256.Size]byte
}

// KeyPropagationDelay is how long a newly rotated key only decodes before it
// also encodes. Other gateway instances refresh their keys from the store
// within this time, so a cookie made with the new key is never shown to an
// instance that cannot read it yet.
const KeyPropagationDelay = 2 * time.Minute

// NewCookieCodec returns a codec for keys, newest first. now is the clock;
// nil means time.Now.
func NewCookieCodec(keys []store.CookieKey, now func() time.Time) (*CookieCodec, error) {
	if now == nil {
		now = time.Now
	}
	c := &CookieCodec{now: now}
	if err := c.SetKeys(keys); err != nil {
		return nil, err
	}
	return c, nil
}

// SetKeys replaces the codec's keys (newest first).
func (c *CookieCodec) SetKeys(keys []store.CookieKey) error {
	if len(keys) == 0 {
		return errors.New("no cookie keys")
	}
	codecs := make([]securecookie.Codec, 0, len(keys))
	ids := make([]string, 0, len(keys))
	created := make([]time.Time, 0, len(keys))
	keysHash := sha256.New()
	for _, k := range keys {
		if err := checkCookieKey(k); err != nil {
			return fmt.Errorf("cookie key %s: %w", k.ID, err)
		}
		sc := securecookie.New(k.HashKey, k.BlockKey)
		// Expiry is carried and checked inside each payload, where the
		// gateway knows the configured lifetime; securecookie's own
		// timestamp check is turned off so there is one source of truth.
		sc.MaxAge(0)
		sc.SetSerializer(securecookie.JSONEncoder{})
		codecs = append(codecs, sc)
		ids = append(ids, k.ID)
		created = append(created, k.Created)
		// Each key's lengths go first, so the concatenation is
		// unambiguous.
		keysHash.Write([]byte{byte(len(k.HashKey)), byte(len(k.BlockKey))})
		keysHash.Write(k.HashKey)
		keysHash.Write(k.BlockKey)
	}
	var sum [sha256.Size]byte
	keysHash.Sum(sum[:0])
	c.mu.Lock()
	c.codecs, c.ids, c.created = codecs, ids, created
	if sum != c.keysHash {
		// Bumped while the new keys are installed: whoever reads the new
		// generation decodes with the new keys from then on.
		c.keysHash = sum
		c.generation.Add(1)
	}
	c.mu.Unlock()
	return nil
}

// keyGeneration identifies the codec's current keys; it changes whenever
// SetKeys changes them. A value read before Decode is never newer than the
// keys that Decode used.
func (c *CookieCodec) keyGeneration() uint64 {
	return c.generation.Load()
}

// KeyIDs returns the IDs of the codec's keys, newest first.
func (c *CookieCodec) KeyIDs() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return append([]string(nil), c.ids...)
}

func checkCookieKey(k store.CookieKey) error {
	if n := len(k.HashKey); n != 32 && n != 64 {
		return fmt.Errorf("hash key is %d bytes, want 32 or 64", n)
	}
	if n := len(k.BlockKey); n != 32 {
		return fmt.Errorf("block key is %d bytes, want 32", n)
	}
	return nil
}

// Encode signs and encrypts value for the cookie called name, with the
// newest key that is older than KeyPropagationDelay (or the oldest key, when
// all are younger, as on a new store).
func (c *CookieCodec) Encode(name string, value any) (string, error) {
	c.mu.RLock()
	codec := c.codecs[len(c.codecs)-1]
	cutoff := c.now().Add(-KeyPropagationDelay)
	for i, created := range c.created {
		if !created.After(cutoff) {
			codec = c.codecs[i]
			break
		}
	}
	c.mu.RUnlock()
	return codec.Encode(name, value)
}

// Decode verifies and decrypts a cookie value into dst. It fails for a
// tampered cookie, a cookie made under another name and a cookie made with
// a key the codec does not hold.
func (c *CookieCodec) Decode(name, value string, dst any) error {
	c.mu.RLock()
	codecs := c.codecs
	c.mu.RUnlock()
	return securecookie.DecodeMulti(name, value, dst, codecs...)
}

// NewCookieKey makes a random key pair created at created.
func NewCookieKey(created time.Time) store.CookieKey {
	return store.CookieKey{
		ID:       hex.EncodeToString(securecookie.GenerateRandomKey(8)),
		Created:  created.UTC(),
		HashKey:  securecookie.GenerateRandomKey(64),
		BlockKey: securecookie.GenerateRandomKey(32),
	}
}

// Cookie base names; see cookieName for the __Host- prefix.
const (
	// CookieBase is the session cookie's name over HTTP.
	CookieBase = "tg_session"
	// FlowCookieBase is the login-flow cookie's name over HTTP.
	FlowCookieBase = "tg_flow"
)

// cookieName returns the name of a gateway cookie for r: on HTTPS it carries
// the __Host- prefix, which browsers accept only with Secure, Path=/ and no
// Domain, so no other host or path can plant or read it.
func cookieName(r *http.Request, base string) string {
	if r.TLS == nil {
		return base
	}
	// The gateway's own names without building them on every request.
	switch base {
	case CookieBase:
		return hostPrefix + CookieBase
	case FlowCookieBase:
		return hostPrefix + FlowCookieBase
	}
	return hostPrefix + base
}

// newCookie returns a cookie with the gateway's attributes: HttpOnly,
// SameSite=Lax, Path=/, host-only, and Secure on HTTPS.
func newCookie(r *http.Request, base, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     cookieName(r, base),
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteLaxMode,
	}
}
