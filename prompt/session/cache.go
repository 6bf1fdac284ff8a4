package session

import (
	"crypto/sha256"
	"fmt"
	"sync/atomic"

	lru "github.com/hashicorp/golang-lru/v2"
)

// DefaultCacheSize is how many decoded session cookies a Keeper keeps
// when Config.CacheSize is zero.
const DefaultCacheSize = 100_000

// cache keeps the sessions decoded from session cookies, so that a
// signed-in request skips verifying, decrypting and unmarshalling the same
// cookie again (most of the gate's time per request). Only what the codec
// accepted is stored, and only the decoding is saved: expiry, revocation and
// device trust are still checked on every request, by the caller.
//
// Entries are keyed by the SHA-256 of the cookie's name and value, so the
// raw cookie (a bearer credential) is not kept, and a cookie finds a
// session only when it is byte for byte the cookie that decoded to it: a
// tampered cookie hashes elsewhere and goes to the codec, which refuses it.
//
// Each entry remembers the codec's key generation it was decoded under.
// Once CookieCodec.SetKeys changes the keys (a rotation, a removed key; not
// the periodic refresh that sets the same keys again) every entry is stale,
// so a cookie made with a removed key is decoded again, and refused, rather
// than answered from memory; the first lookup that sees the change empties
// the cache.
//
// The least recently used entry is evicted when the cache is full. An entry
// takes about 680 bytes of heap for a session with an email, two groups and
// a vouching device (BenchmarkSessionCacheMemory), more with many groups;
// a full cache of the default size takes about 68 MB. It is safe for
// concurrent use.
type cache struct {
	codec   *CookieCodec
	entries *lru.Cache[[sha256.Size]byte, sessionEntry]
	// generation is the key generation the entries were decoded under, as
	// last seen by a lookup.
	generation atomic.Uint64
}

// sessionEntry is a decoded session and the key generation it was decoded
// under. The session is never modified once stored.
type sessionEntry struct {
	session    *Session
	generation uint64
}

// newCache returns a cache of at most size sessions decoded by
// codec (zero: DefaultCacheSize); a negative size turns caching off,
// so that every cookie is decoded.
func newCache(size int, codec *CookieCodec) (*cache, error) {
	c := &cache{codec: codec}
	if size < 0 {
		return c, nil
	}
	if size == 0 {
		size = DefaultCacheSize
	}
	var err error
	if c.entries, err = lru.New[[sha256.Size]byte, sessionEntry](size); err != nil {
		return nil, fmt.Errorf("creating session cache: %w", err)
	}
	c.generation.Store(codec.keyGeneration())
	return c, nil
}

// decode returns the session in the cookie called name with value: the
// cached one, or the codec's decoding, which is then cached. The caller
// gets its own copy of the session's fields; the Groups, Failed and
// Warnings slices are shared and must not be modified.
func (c *cache) decode(name, value string) (*Session, error) {
	if c.entries == nil {
		s := new(Session)
		if err := c.codec.Decode(name, value, s); err != nil {
			return nil, err
		}
		return s, nil
	}
	// Read before decoding: a generation is never newer than the keys
	// that the decoding below used.
	generation := c.codec.keyGeneration()
	if seen := c.generation.Load(); seen != generation && c.generation.CompareAndSwap(seen, generation) {
		c.entries.Purge()
	}
	key := sessionKey(name, value)
	if e, ok := c.entries.Get(key); ok {
		if e.generation == generation {
			s := *e.session
			return &s, nil
		}
		// Decoded under keys since replaced (by a decode that raced with
		// the purge): decode again.
		c.entries.Remove(key)
	}
	s := new(Session)
	if err := c.codec.Decode(name, value, s); err != nil {
		return nil, err
	}
	stored := *s
	stored.joinedGroups = stored.JoinedGroups()
	c.entries.Add(key, sessionEntry{session: &stored, generation: generation})
	return s, nil
}

// sessionKey is the cache key of a session cookie: the SHA-256 of its name,
// a zero byte (which no cookie name holds) and its value. The bytes are
// put together on the stack, big enough for the session cookies a browser
// sends (at most 4096 bytes with their names; ours are well under 2048), so
// a lookup allocates nothing.
func sessionKey(name, value string) [sha256.Size]byte {
	var buf [2048]byte
	b := append(buf[:0], name...)
	b = append(b, 0)
	b = append(b, value...)
	return sha256.Sum256(b)
}

// len returns how many sessions the cache holds.
func (c *cache) len() int {
	if c.entries == nil {
		return 0
	}
	return c.entries.Len()
}
