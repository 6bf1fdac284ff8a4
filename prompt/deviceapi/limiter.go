package deviceapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/web"
	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst requests at once, refilled at Events per
// Per. The zero Rate takes the default of where it is used.
type Rate struct {
	// Events is how many requests the bucket refills over Per.
	Events int
	// Per is the period over which Events refill.
	Per time.Duration
	// Burst is how many requests may come at once. Default: Events.
	Burst int
	// Off turns the limit off.
	Off bool
}

// DefaultLimits returns the limits a Limiter applies where Limits leaves
// the zero value:
//   - per device 10/s, burst 20: a long-polling app makes about one request
//     every 30 s, an active one a few per login;
//   - per client address 50/s, burst 100: generous, because many phones may
//     share an address behind a carrier or office NAT;
//   - activations per client address 30/min, burst 30: an office rolling
//     the app out activates many phones from one address, and guessing
//     codes is stopped by the lockout;
//   - 10000 addresses and devices tracked, and 10 s to read a body.
func DefaultLimits() Limits {
	return Limits{
		Device:      Rate{Events: 10, Per: time.Second, Burst: 20},
		IP:          Rate{Events: 50, Per: time.Second, Burst: 100},
		Activation:  Rate{Events: 30, Per: time.Minute, Burst: 30},
		Keys:        10000,
		BodyTimeout: defaultBodyTimeout,
	}
}

// defaultBodyTimeout bounds reading a device request's body when no Limiter
// says otherwise.
const defaultBodyTimeout = 10 * time.Second

// Limits configures a Limiter.
type Limits struct {
	// Device limits the requests of each device (named by its proof's
	// kid, counted once the proof verifies), on every endpoint but
	// activation. Default: 10/s, burst 20.
	Device Rate
	// IP limits the requests of each client address, on every endpoint.
	// Default: 50/s, burst 100.
	IP Rate
	// Activation limits activations from each client address, on top of
	// IP. Default: 30/min, burst 30.
	Activation Rate
	// Keys is how many addresses (and, apart, devices) are tracked; the
	// least recently seen is forgotten first, which only gives it a full
	// bucket again. Default: 10000.
	Keys int
	// BodyTimeout bounds how long reading a device request's body may
	// take, so that a client sending it slowly cannot hold a connection
	// and its goroutine for long. Default: 10s.
	BodyTimeout time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Limiter rate-limits the device API with token buckets per client address
// and per device, kept in memory, so each gateway instance counts on its
// own: n instances behind a load balancer let through up to n times the
// rate. The limits are against floods and runaway apps; guessing
// (passwords, passcodes, activation codes) is stopped by the lockouts,
// which are counted in the store and so hold across every instance. It is
// safe for concurrent use.
type Limiter struct {
	limits                 Limits
	device, ip, activation *buckets
}

// NewLimiter checks l, fills in its defaults and returns a Limiter.
func NewLimiter(l Limits) (*Limiter, error) {
	def := DefaultLimits()
	var err error
	if l.Device, err = l.Device.withDefault(def.Device); err != nil {
		return nil, fmt.Errorf("device rate: %w", err)
	}
	if l.IP, err = l.IP.withDefault(def.IP); err != nil {
		return nil, fmt.Errorf("ip rate: %w", err)
	}
	if l.Activation, err = l.Activation.withDefault(def.Activation); err != nil {
		return nil, fmt.Errorf("activation rate: %w", err)
	}
	if l.Keys < 0 {
		return nil, fmt.Errorf("keys must not be negative, got %d", l.Keys)
	}
	if l.Keys == 0 {
		l.Keys = def.Keys
	}
	if l.BodyTimeout < 0 {
		return nil, fmt.Errorf("body timeout must not be negative, got %s", l.BodyTimeout)
	}
	if l.BodyTimeout == 0 {
		l.BodyTimeout = def.BodyTimeout
	}
	if l.Now == nil {
		l.Now = time.Now
	}
	lim := &Limiter{limits: l}
	for _, b := range []struct {
		dst  **buckets
		rate Rate
	}{{&lim.device, l.Device}, {&lim.ip, l.IP}, {&lim.activation, l.Activation}} {
		if *b.dst, err = newBuckets(b.rate, l.Keys); err != nil {
			return nil, err
		}
	}
	return lim, nil
}

// Limits returns the limits in force, defaults filled in.
func (l *Limiter) Limits() Limits { return l.limits }

func (r Rate) withDefault(def Rate) (Rate, error) {
	switch {
	case r.Off:
		return Rate{Off: true}, nil
	case r.Events == 0 && r.Per == 0 && r.Burst == 0:
		return def, nil
	case r.Events <= 0 || r.Per <= 0:
		return r, errors.New("events and period must be positive")
	case r.Burst < 0:
		return r, errors.New("burst must not be negative")
	case r.Burst == 0:
		r.Burst = r.Events
	}
	return r, nil
}

// buckets are the token buckets of one kind, keyed by address or device.
type buckets struct {
	rate  Rate
	cache *lru.Cache[string, *rate.Limiter]
}

func newBuckets(r Rate, keys int) (*buckets, error) {
	if r.Off {
		return nil, nil
	}
	cache, err := lru.New[string, *rate.Limiter](keys)
	if err != nil {
		return nil, fmt.Errorf("making rate limiter cache: %w", err)
	}
	return &buckets{rate: r, cache: cache}, nil
}

// take takes a token from key's bucket at now. When there is none it
// reports how long until there is.
func (b *buckets) take(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if b == nil {
		return true, 0
	}
	lim, found := b.cache.Get(key)
	if !found {
		fresh := rate.NewLimiter(rate.Every(b.rate.Per/time.Duration(b.rate.Events)), b.rate.Burst)
		if prev, loaded, _ := b.cache.PeekOrAdd(key, fresh); loaded {
			lim = prev
		} else {
			lim = fresh
		}
	}
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, b.rate.Per
	}
	if d := res.DelayFrom(now); d > 0 {
		// Refused requests take nothing, so a client that waits as told
		// gets through.
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// allowDevice takes a token for a device API request to path from its
// address's bucket (and, for an activation, the address's activation
// bucket), and reports the wait when a bucket is empty. The device's own
// bucket is charged later, once its proof verifies (chargeDevice).
func (l *Limiter) allowDevice(r *http.Request, ip, path string) (ok bool, retryAfter time.Duration) {
	now := l.limits.Now()
	if ok, d := l.ip.take(ip, now); !ok {
		return false, d
	}
	if path == "activate" {
		if r.Method != http.MethodPost {
			return true, 0
		}
		return l.activation.take(ip, now)
	}
	return true, 0
}

// chargeDevice takes a token from the bucket of the device whose proof
// just verified, and refuses the request when it is empty.
func (a *API) chargeDevice(deviceID string) error {
	l := a.cfg.Limiter
	if l == nil {
		return nil
	}
	if ok, wait := l.device.take(deviceID, l.limits.Now()); !ok {
		return &rateLimited{wait: wait}
	}
	return nil
}

// rateLimited is the device API's 429, with the wait for Retry-After.
type rateLimited struct{ wait time.Duration }

func (e *rateLimited) Error() string { return "rate limited for " + e.wait.String() }

// webError is the answer to e: Retry-After is set on w.
func (e *rateLimited) webError(w http.ResponseWriter) *web.Error {
	secs := int64(math.Ceil(e.wait.Seconds()))
	w.Header().Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	return &web.Error{Status: http.StatusTooManyRequests, Code: device.CodeRateLimited,
		Message: "too many requests; retry after the time in Retry-After"}
}

// limit applies the device API's rate limits and body deadline to r.
// When r is over a limit it is refused with 429 and Retry-After. Without a
// Limiter only the body deadline applies.
func (a *API) limit(w http.ResponseWriter, r *http.Request, path string) error {
	bodyTimeout := defaultBodyTimeout
	if l := a.cfg.Limiter; l != nil {
		if ok, wait := l.allowDevice(r, a.cfg.ClientIP(r), path); !ok {
			return &rateLimited{wait: wait}
		}
		bodyTimeout = l.limits.BodyTimeout
	}
	// Only for a request that sends a body: a GET's body need not be
	// http.NoBody behind Caddy, and a deadline on a held long-poll's
	// connection would cut it off.
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		// A real deadline, not the injected clock: it is the network's.
		// readBody lifts it once the body is read, so that it cannot end
		// a handler that is still working.
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyTimeout))
	}
	return nil
}
