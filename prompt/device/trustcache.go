package device

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// TrustDecision is a cached verdict for one user on one device under one policy.
type TrustDecision struct {
	Status   string    // "trusted", "not trusted" (policy.Status values; kept a string here)
	Failed   []string  // reason codes of failed requirements
	Warnings []string  // reason codes of requirements that warn but do not block
	Expires  time.Time // end of trust_for; the decision is expired from this instant on
}

// trustKey identifies a decision. A struct of strings is compared field by
// field, so user "a|b" on device "c" can never meet user "a" on device "b|c",
// whatever characters the names hold; and building it costs no allocation.
type trustKey struct {
	user, deviceID, policyHash string
}

// trustEntry is what the cache stores: the decision and the device's
// revocation generation at the moment it was stored.
type trustEntry struct {
	decision   TrustDecision
	generation uint64
}

// TrustCache holds device-trust decisions in memory so the request hot path
// never touches storage. Decisions are keyed by user, device and policy hash,
// so a changed (say, tightened) policy simply misses and is checked again.
// The least recently used decision is evicted when the cache is full.
//
// Revoking a device is O(1): each device has a generation number, bumped by
// RevokeDevice, and every stored decision remembers the generation it was
// stored under; a decision from an older generation no longer counts. The
// generation map keeps one small entry (the ID and a uint64) for every device
// ever revoked during the life of the cache, and never shrinks: that is
// bounded by the number of revocations, which are rare admin actions, and it
// is dropped with the cache on a restart.
//
// A TrustCache is safe for concurrent use. The Failed and Warnings slices of
// a decision are shared between Put and every Get; callers must not modify
// them.
type TrustCache struct {
	now       func() time.Time
	decisions *lru.Cache[trustKey, trustEntry]

	generationsMu sync.RWMutex
	generations   map[string]uint64 // device ID → revocation count; absent means 0

	hits, misses atomic.Uint64
}

// NewTrustCache returns a cache holding at most size decisions; now is the
// clock (nil: time.Now).
func NewTrustCache(size int, now func() time.Time) (*TrustCache, error) {
	if size < 1 {
		return nil, fmt.Errorf("trust cache size %d: must be at least 1", size)
	}
	decisions, err := lru.New[trustKey, trustEntry](size)
	if err != nil {
		return nil, fmt.Errorf("creating trust cache: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &TrustCache{
		now:         now,
		decisions:   decisions,
		generations: make(map[string]uint64),
	}, nil
}

// Get returns the decision stored for user on deviceID under policyHash. It
// reports false when there is none, when it has expired (now >= Expires), or
// when the device was revoked after it was stored; expired and revoked
// decisions are removed.
func (c *TrustCache) Get(user, deviceID, policyHash string) (TrustDecision, bool) {
	key := trustKey{user, deviceID, policyHash}
	entry, ok := c.decisions.Get(key)
	if !ok {
		c.misses.Add(1)
		return TrustDecision{}, false
	}
	if entry.generation != c.generation(deviceID) || !c.now().Before(entry.decision.Expires) {
		// A Put racing with this Remove may lose its fresh decision; that
		// costs one extra check, never a wrong answer.
		c.decisions.Remove(key)
		c.misses.Add(1)
		return TrustDecision{}, false
	}
	c.hits.Add(1)
	return entry.decision, true
}

// Put stores d for user on deviceID under policyHash, replacing any earlier
// decision for the same three. The decision counts until d.Expires or until
// the device is next revoked.
//
// A decision worked out before a revocation but stored after it would count,
// so the caller should not Put a verdict it computed before an admin action
// it already knows about.
func (c *TrustCache) Put(user, deviceID, policyHash string, d TrustDecision) {
	// Reading the generation before adding is what makes a concurrent
	// RevokeDevice win: the entry then carries the old generation.
	c.decisions.Add(trustKey{user, deviceID, policyHash}, trustEntry{
		decision:   d,
		generation: c.generation(deviceID),
	})
}

// RevokeDevice makes every stored decision for deviceID stop counting at
// once, for every user and policy, without scanning the cache. The stale
// entries are removed as Get meets them or as the LRU evicts them.
func (c *TrustCache) RevokeDevice(deviceID string) {
	c.generationsMu.Lock()
	c.generations[deviceID]++
	c.generationsMu.Unlock()
}

// WasRevoked reports whether RevokeDevice was called for deviceID during the
// life of the cache. It lets the hot path refuse a device it knows to be
// revoked even when storage cannot be asked.
func (c *TrustCache) WasRevoked(deviceID string) bool {
	return c.generation(deviceID) > 0
}

// Purge forgets every decision, as after missed revocation events: the next
// request of each session reads its device again.
func (c *TrustCache) Purge() {
	c.decisions.Purge()
}

// Resize changes the number of decisions the cache may hold, as after a
// config reload, and returns how many were evicted to fit. A size below 1 is
// taken as 1.
func (c *TrustCache) Resize(size int) int {
	return c.decisions.Resize(max(size, 1))
}

// Len returns the number of decisions stored, counting expired and revoked
// ones not yet removed.
func (c *TrustCache) Len() int {
	return c.decisions.Len()
}

// Stats returns hit and miss counts since creation. Metrics read them when
// scraped, so lookups pay for no more than the two counters kept here.
func (c *TrustCache) Stats() (hits, misses uint64) {
	return c.hits.Load(), c.misses.Load()
}

func (c *TrustCache) generation(deviceID string) uint64 {
	c.generationsMu.RLock()
	defer c.generationsMu.RUnlock()
	return c.generations[deviceID]
}
