// Package limits holds the handler's limits setting: what one client may
// ask of the device API (token buckets per client address, per device and
// for activations, and how long a request body may take), its Caddyfile
// block, and the deviceapi.Limiter the gate is given for it.
package limits

import (
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/trustgate/trustgate/prompt/deviceapi"
)

// Config bounds what one client may ask of the device API
// (/.trustgate/device/v1/): token buckets per client IP address, per device
// and for activations per client IP address, and how long a request body
// may take to arrive. Over a limit the device gets 429 with Retry-After.
//
// The buckets are kept in memory by each instance: n instances behind a load
// balancer let through up to n times the rate, and a reload starts them
// full. They are against floods and runaway apps. Guessing is stopped by
// the lockouts (lockout, passcode_attempts, activation_attempts), which are
// counted in the store and hold across every instance.
//
// The body timeout only covers the device API. Give the whole server read
// timeouts too, in the global options:
//
//	servers {
//		timeouts {
//			read_header 10s
//			read_body   10s
//		}
//	}
type Config struct {
	// Device limits each device's requests (every endpoint but
	// activation), named by the kid of its proof and counted once the
	// proof verifies, so nobody else can use up a device's allowance.
	// Default: 10 per second, bursts of 20
	Device *Rate `json:"device,omitempty"`

	// IP limits each client address's requests to the device API, as
	// Caddy determined the address (trusted_proxies). Keep it generous:
	// many phones may share an address behind a NAT.
	// Default: 50 per second, bursts of 100
	IP *Rate `json:"ip,omitempty"`

	// Activation limits each client address's activations, on top of IP.
	// Default: 30 per minute, bursts of 30
	Activation *Rate `json:"activation,omitempty"`

	// Keys is how many addresses (and, apart, devices) are tracked; the
	// least recently seen is forgotten first, which only gives it a full
	// bucket again. Default: 10000
	Keys int `json:"keys,omitempty"`

	// BodyTimeout is how long a device request's body may take to arrive,
	// from the moment its headers are in. A slower body is refused with 408
	// and its connection closed. Default: 10s
	BodyTimeout caddy.Duration `json:"body_timeout,omitempty"`
}

// Rate is a token bucket: Burst requests at once, refilled at Events per
// Window.
type Rate struct {
	// Events is how many requests are allowed per Window.
	Events int `json:"events,omitempty"`

	// Window is the period over which Events are allowed.
	Window caddy.Duration `json:"window,omitempty"`

	// Burst is how many requests may come at once. Default: Events
	Burst int `json:"burst,omitempty"`

	// Off turns this limit off.
	Off bool `json:"off,omitempty"`
}

// Limiter returns the gate's limiter for l; l may be nil (every default).
func (l *Config) Limiter() (*deviceapi.Limiter, error) {
	var pl deviceapi.Limits
	if l != nil {
		pl = deviceapi.Limits{
			Device:      l.Device.deviceAPIRate(),
			IP:          l.IP.deviceAPIRate(),
			Activation:  l.Activation.deviceAPIRate(),
			Keys:        l.Keys,
			BodyTimeout: time.Duration(l.BodyTimeout),
		}
	}
	lim, err := deviceapi.NewLimiter(pl)
	if err != nil {
		return nil, fmt.Errorf("limits: %w", err)
	}
	return lim, nil
}

func (r *Rate) deviceAPIRate() deviceapi.Rate {
	if r == nil {
		return deviceapi.Rate{}
	}
	return deviceapi.Rate{Events: r.Events, Per: time.Duration(r.Window), Burst: r.Burst, Off: r.Off}
}
