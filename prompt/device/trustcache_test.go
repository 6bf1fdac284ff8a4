package device

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// trustClock is an injected clock the tests move by hand; it is atomic so
// the concurrency test may read it from many goroutines.
type trustClock struct{ unixNano atomic.Int64 }

func newTrustClock() *trustClock {
	c := &trustClock{}
	c.unixNano.Store(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *trustClock) now() time.Time                  { return time.Unix(0, c.unixNano.Load()).UTC() }
func (c *trustClock) advance(d time.Duration)         { c.unixNano.Add(int64(d)) }
func (c *trustClock) set(t time.Time)                 { c.unixNano.Store(t.UnixNano()) }
func (c *trustClock) after(d time.Duration) time.Time { return c.now().Add(d) }

func newTestTrustCache(t testing.TB, size int) (*TrustCache, *trustClock) {
	t.Helper()
	clock := newTrustClock()
	cache, err := NewTrustCache(size, clock.now)
	if err != nil {
		t.Fatalf("NewTrustCache(%d): %v", size, err)
	}
	return cache, clock
}

func trusted(expires time.Time) TrustDecision {
	return TrustDecision{Status: "trusted", Warnings: []string{"os_update_soon"}, Expires: expires}
}

func wantHit(t *testing.T, c *TrustCache, user, device, policy string, want TrustDecision) {
	t.Helper()
	got, ok := c.Get(user, device, policy)
	if !ok {
		t.Fatalf("Get(%q, %q, %q) missed, want a hit", user, device, policy)
	}
	if got.Status != want.Status || !got.Expires.Equal(want.Expires) ||
		!slices.Equal(got.Failed, want.Failed) || !slices.Equal(got.Warnings, want.Warnings) {
		t.Fatalf("Get(%q, %q, %q) = %+v, want %+v", user, device, policy, got, want)
	}
}

func wantMiss(t *testing.T, c *TrustCache, user, device, policy string) {
	t.Helper()
	if got, ok := c.Get(user, device, policy); ok {
		t.Fatalf("Get(%q, %q, %q) = %+v, want a miss", user, device, policy, got)
	}
}

func TestTrustCacheHitsAfterPut(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	d := TrustDecision{
		Status:   "not trusted",
		Failed:   []string{"screen_lock", "disk_encryption"},
		Warnings: []string{"os_update_soon"},
		Expires:  clock.after(time.Hour),
	}
	c.Put("alice", "dev-1", "policy-A", d)
	wantHit(t, c, "alice", "dev-1", "policy-A", d)
	if c.Len() != 1 {
		t.Fatalf("Len() = %d, want 1", c.Len())
	}
}

func TestTrustCacheMissesForAnotherUserDeviceOrPolicy(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	c.Put("alice", "dev-1", "policy-A", trusted(clock.after(time.Hour)))
	for _, tc := range []struct{ name, user, device, policy string }{
		{"another user", "bob", "dev-1", "policy-A"},
		{"another device", "alice", "dev-2", "policy-A"},
		{"changed policy hash", "alice", "dev-1", "policy-B"},
		{"empty key", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantMiss(t, c, tc.user, tc.device, tc.policy)
		})
	}
	wantHit(t, c, "alice", "dev-1", "policy-A", trusted(clock.after(time.Hour)))
}

func TestTrustCacheKeysCannotCollideAcrossFields(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	first := trusted(clock.after(time.Hour))
	c.Put("a|b", "c", "p", first)
	wantMiss(t, c, "a", "b|c", "p")
	wantMiss(t, c, "a|b|c", "", "p")
	c.Put("a\x00b", "c", "p", first)
	wantMiss(t, c, "a", "b\x00c", "p")
	wantMiss(t, c, "a\x00b\x00c", "", "p")
	c.Put("u", "d", "", first)
	wantMiss(t, c, "u", "", "d")

	second := TrustDecision{Status: "not trusted", Failed: []string{"firewall"}, Expires: clock.after(time.Minute)}
	c.Put("a", "b|c", "p", second)
	wantHit(t, c, "a|b", "c", "p", first)
	wantHit(t, c, "a", "b|c", "p", second)
}

func TestTrustCacheExpiresAtExactlyExpires(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	expires := clock.after(8 * time.Hour)
	c.Put("alice", "dev-1", "policy-A", trusted(expires))

	clock.set(expires.Add(-time.Nanosecond))
	wantHit(t, c, "alice", "dev-1", "policy-A", trusted(expires))

	clock.set(expires)
	wantMiss(t, c, "alice", "dev-1", "policy-A")
	if c.Len() != 0 {
		t.Fatalf("Len() = %d after Get of an expired decision, want 0 (removed)", c.Len())
	}

	// Going back in time must not resurrect it: it is gone, not hidden.
	clock.set(expires.Add(-time.Hour))
	wantMiss(t, c, "alice", "dev-1", "policy-A")
}

func TestTrustCacheRevokeDeviceMissesThatDeviceOnly(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	d := trusted(clock.after(time.Hour))
	c.Put("alice", "dev-1", "policy-A", d)
	c.Put("alice", "dev-1", "policy-B", d)
	c.Put("bob", "dev-1", "policy-A", d)
	c.Put("alice", "dev-2", "policy-A", d)
	c.Put("alice", "dev-10", "policy-A", d)

	c.RevokeDevice("dev-1")

	wantMiss(t, c, "alice", "dev-1", "policy-A")
	wantMiss(t, c, "alice", "dev-1", "policy-B")
	wantMiss(t, c, "bob", "dev-1", "policy-A")
	wantHit(t, c, "alice", "dev-2", "policy-A", d)
	wantHit(t, c, "alice", "dev-10", "policy-A", d)

	// A decision stored after the revocation counts again, and a second
	// revocation takes it away again.
	c.Put("alice", "dev-1", "policy-A", d)
	wantHit(t, c, "alice", "dev-1", "policy-A", d)
	c.RevokeDevice("dev-1")
	wantMiss(t, c, "alice", "dev-1", "policy-A")
}

func TestTrustCacheRevokeUnknownDeviceChangesNothing(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	d := trusted(clock.after(time.Hour))
	c.Put("alice", "dev-1", "policy-A", d)
	c.RevokeDevice("never-seen")
	wantHit(t, c, "alice", "dev-1", "policy-A", d)
}

func TestTrustCacheEvictsLeastRecentlyUsedAtSize(t *testing.T) {
	c, clock := newTestTrustCache(t, 3)
	d := trusted(clock.after(time.Hour))
	c.Put("u1", "dev", "p", d)
	c.Put("u2", "dev", "p", d)
	c.Put("u3", "dev", "p", d)
	wantHit(t, c, "u1", "dev", "p", d) // u1 is now the most recently used; u2 the least
	c.Put("u4", "dev", "p", d)

	if c.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", c.Len())
	}
	wantMiss(t, c, "u2", "dev", "p")
	for _, user := range []string{"u1", "u3", "u4"} {
		wantHit(t, c, user, "dev", "p", d)
	}
}

func TestTrustCacheResizeSmallerEvictsOldest(t *testing.T) {
	c, clock := newTestTrustCache(t, 5)
	d := trusted(clock.after(time.Hour))
	for i := range 5 {
		c.Put(fmt.Sprintf("u%d", i), "dev", "p", d)
	}
	if evicted := c.Resize(2); evicted != 3 {
		t.Fatalf("Resize(2) evicted %d, want 3", evicted)
	}
	if c.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", c.Len())
	}
	for _, user := range []string{"u0", "u1", "u2"} {
		wantMiss(t, c, user, "dev", "p")
	}
	wantHit(t, c, "u3", "dev", "p", d)
	wantHit(t, c, "u4", "dev", "p", d)

	// The new size holds for later Puts too.
	c.Put("u5", "dev", "p", d)
	if c.Len() != 2 {
		t.Fatalf("Len() = %d after Put past the new size, want 2", c.Len())
	}

	if evicted := c.Resize(10); evicted != 0 {
		t.Fatalf("Resize(10) evicted %d, want 0", evicted)
	}
	if evicted := c.Resize(0); evicted != 1 || c.Len() != 1 {
		t.Fatalf("Resize(0) evicted %d leaving %d, want 1 evicted and 1 left (size taken as 1)", evicted, c.Len())
	}
}

func TestNewTrustCacheRejectsSizeBelowOne(t *testing.T) {
	for _, size := range []int{0, -1} {
		if _, err := NewTrustCache(size, nil); err == nil {
			t.Errorf("NewTrustCache(%d) returned no error", size)
		}
	}
}

func TestNewTrustCacheWithoutClockUsesTimeNow(t *testing.T) {
	c, err := NewTrustCache(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Put("alice", "dev-1", "p", TrustDecision{Status: "trusted", Expires: time.Now().Add(time.Hour)})
	if _, ok := c.Get("alice", "dev-1", "p"); !ok {
		t.Fatal("decision expiring in an hour missed with the real clock")
	}
	c.Put("alice", "dev-1", "p", TrustDecision{Status: "trusted", Expires: time.Now().Add(-time.Second)})
	if _, ok := c.Get("alice", "dev-1", "p"); ok {
		t.Fatal("decision that expired a second ago hit with the real clock")
	}
}

func TestTrustCacheStatsCountHitsAndMisses(t *testing.T) {
	c, clock := newTestTrustCache(t, 10)
	d := trusted(clock.after(time.Hour))
	c.Put("alice", "dev-1", "p", d)
	c.Put("bob", "dev-2", "p", d)

	c.Get("alice", "dev-1", "p") // hit
	c.Get("alice", "dev-1", "p") // hit
	c.Get("carol", "dev-1", "p") // miss: absent
	c.RevokeDevice("dev-1")
	c.Get("alice", "dev-1", "p") // miss: revoked
	clock.advance(time.Hour)
	c.Get("bob", "dev-2", "p") // miss: expired

	hits, misses := c.Stats()
	if hits != 2 || misses != 3 {
		t.Fatalf("Stats() = %d hits, %d misses; want 2, 3", hits, misses)
	}
}

func TestTrustCacheConcurrentGetPutRevoke(t *testing.T) {
	c, clock := newTestTrustCache(t, 64)
	const workers, iterations = 8, 2000
	var wg sync.WaitGroup
	var gets atomic.Uint64
	for w := range workers {
		wg.Go(func() {
			for i := range iterations {
				user := fmt.Sprintf("u%d", (w+i)%16)
				device := fmt.Sprintf("dev-%d", i%8)
				switch i % 7 {
				case 0:
					c.RevokeDevice(device)
				case 1, 2:
					c.Put(user, device, "p", trusted(clock.after(time.Hour)))
				case 3:
					clock.advance(time.Millisecond)
					fallthrough
				default:
					gets.Add(1)
					if d, ok := c.Get(user, device, "p"); ok && d.Status != "trusted" {
						t.Errorf("Get(%q, %q) = %+v, want a trusted decision", user, device, d)
						return
					}
				}
			}
		})
	}
	wg.Wait()

	if n := c.Len(); n > 64 {
		t.Fatalf("Len() = %d, above size 64", n)
	}
	if hits, misses := c.Stats(); hits+misses != gets.Load() {
		t.Fatalf("Stats() = %d hits + %d misses, want %d Gets counted", hits, misses, gets.Load())
	}

	// Revocation still wins once the dust settles.
	c.Put("alice", "dev-0", "p", trusted(clock.after(time.Hour)))
	c.RevokeDevice("dev-0")
	wantMiss(t, c, "alice", "dev-0", "p")
}

func BenchmarkTrustCacheGetHit(b *testing.B) {
	c, clock := newTestTrustCache(b, 1024)
	const users = 256
	names := make([]string, users)
	devices := make([]string, users)
	for i := range names {
		names[i] = fmt.Sprintf("user%d@example.com", i)
		devices[i] = fmt.Sprintf("device-%d", i)
		c.Put(names[i], devices[i], "policy-hash", trusted(clock.after(time.Hour)))
	}
	var next atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := next.Add(1) * 7919
		for pb.Next() {
			j := i % users
			if _, ok := c.Get(names[j], devices[j], "policy-hash"); !ok {
				b.Errorf("Get(%q) missed", names[j])
				return
			}
			i++
		}
	})
}

func BenchmarkTrustCacheMillionEntries(b *testing.B) {
	const entries = 1_000_000
	users := make([]string, entries)
	devices := make([]string, entries)
	for i := range entries {
		users[i] = fmt.Sprintf("user%07d@example.com", i)
		devices[i] = fmt.Sprintf("device-%07d", i)
	}
	clock := newTrustClock()
	expires := clock.after(time.Hour)
	decision := TrustDecision{Status: "trusted", Expires: expires}
	const policyHash = "sha256:4f2a9c0e"

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c, err := NewTrustCache(entries, clock.now)
	if err != nil {
		b.Fatal(err)
	}
	for i := range entries {
		c.Put(users[i], devices[i], policyHash, decision)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if c.Len() != entries {
		b.Fatalf("Len() = %d, want %d", c.Len(), entries)
	}
	// The key strings are allocated before the measurement, as a real
	// gateway's request already holds them; this is the cache's own cost.
	bytesPerEntry := (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / entries

	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		j := (i * 7919) % entries
		if _, ok := c.Get(users[j], devices[j], policyHash); !ok {
			b.Fatalf("Get(%q) missed", users[j])
		}
	}
	b.StopTimer()
	// Reported after the loop: ResetTimer discards metrics reported before it.
	b.ReportMetric(bytesPerEntry, "B/entry")
	runtime.KeepAlive(users)
	runtime.KeepAlive(devices)
}
