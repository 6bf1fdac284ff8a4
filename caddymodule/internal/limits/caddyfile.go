package limits

import (
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/trustgate/trustgate/caddymodule/internal/directive"
)

// Parse parses the limits option of the trusted_endpoints directive: the
// device API's rate limits and body timeout. Syntax:
//
//	limits {
//		device       <events>/<window> [burst <n>] | off
//		ip           <events>/<window> [burst <n>] | off
//		activation   <events>/<window> [burst <n>] | off
//		keys         <n>
//		body_timeout <duration>
//	}
//
// A window is s, m or h (one second, minute or hour) or a duration such as
// 30s: "device 10/s burst 20", "activation 5/m". Burst defaults to the
// number of events. An option left out keeps its default (device 10/s
// burst 20, ip 50/s burst 100, activation 30/m, keys 10000, body_timeout
// 10s). The dispenser is at the limits token.
func Parse(d *caddyfile.Dispenser) (*Config, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	l := new(Config)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch option := d.Val(); option {
		case "device", "ip", "activation":
			r, err := parseRate(d)
			if err != nil {
				return nil, err
			}
			switch option {
			case "device":
				l.Device = r
			case "ip":
				l.IP = r
			default:
				l.Activation = r
			}
		case "keys":
			var raw string
			if !d.AllArgs(&raw) {
				return nil, d.ArgErr()
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 {
				return nil, d.Errf("limits keys must be a positive whole number, got %q", raw)
			}
			l.Keys = n
		case "body_timeout":
			dur, err := directive.DurationArg(d)
			if err != nil {
				return nil, err
			}
			l.BodyTimeout = dur
		default:
			return nil, d.Errf("unknown limits option %q (want device, ip, activation, keys or body_timeout)", option)
		}
	}
	return l, nil
}

// parseRate parses "<events>/<window> [burst <n>]" or "off".
func parseRate(d *caddyfile.Dispenser) (*Rate, error) {
	option := d.Val()
	args := d.RemainingArgs()
	if len(args) == 1 && args[0] == "off" {
		return &Rate{Off: true}, nil
	}
	if len(args) != 1 && (len(args) != 3 || args[1] != "burst") {
		return nil, d.Errf("limits %s: want <events>/<window> [burst <n>] or off", option)
	}
	events, window, ok := strings.Cut(args[0], "/")
	n, err := strconv.Atoi(events)
	if !ok || err != nil || n < 1 {
		return nil, d.Errf("limits %s: %q is not <events>/<window> with a positive number of events", option, args[0])
	}
	r := &Rate{Events: n}
	switch window {
	case "s":
		r.Window = caddy.Duration(time.Second)
	case "m":
		r.Window = caddy.Duration(time.Minute)
	case "h":
		r.Window = caddy.Duration(time.Hour)
	default:
		dur, err := caddy.ParseDuration(window)
		if err != nil || dur <= 0 {
			return nil, d.Errf("limits %s: window %q must be s, m, h or a positive duration", option, window)
		}
		r.Window = caddy.Duration(dur)
	}
	if len(args) == 3 {
		b, err := strconv.Atoi(args[2])
		if err != nil || b < 1 {
			return nil, d.Errf("limits %s: burst must be a positive whole number, got %q", option, args[2])
		}
		r.Burst = b
	}
	return r, nil
}
