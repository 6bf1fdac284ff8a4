package caddymodule

import (
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt/runtime"
)

// RetentionConfig says how long the gateway keeps records that grow without
// bound. Every period counts back from the time of a retention run, which
// happens hourly in the background: a record may outlive its period by up
// to an hour. A zero or absent period takes the default; a negative one
// keeps the records forever.
type RetentionConfig struct {
	// AuthLog is how long an auth-log entry is kept after the login attempt
	// it records. A negative value keeps entries forever.
	// Default: 180d.
	AuthLog caddy.Duration `json:"auth_log,omitempty"`

	// InactiveDevices is how long an activated device is kept after it was
	// last active: its last signed request, or its activation if it never
	// made one, or its revocation if that came later (so a revoked device
	// stays listed this long). Its pushes go with it, and the app must be
	// activated again before it can be used. A negative value keeps devices
	// forever. Default: 30d.
	InactiveDevices caddy.Duration `json:"inactive_devices,omitempty"`
}

// periods resolves the defaults and the keep-forever rule of r, which may
// be nil, into the runtime's retention settings (zero: forever).
func (r *RetentionConfig) periods() runtime.Retention {
	var cfg RetentionConfig
	if r != nil {
		cfg = *r
	}
	resolve := func(d caddy.Duration, def time.Duration) time.Duration {
		switch {
		case d == 0:
			return def
		case d < 0:
			return 0
		}
		return time.Duration(d)
	}
	return runtime.Retention{
		AuthLog:         resolve(cfg.AuthLog, runtime.DefaultAuthLogRetention),
		InactiveDevices: resolve(cfg.InactiveDevices, runtime.DefaultInactiveDeviceRetention),
	}
}
