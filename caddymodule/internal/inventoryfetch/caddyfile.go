package inventoryfetch

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Parse parses the inventory_url option of the trusted_endpoints global
// option. Syntax:
//
//	inventory_url <https url> every <duration> {
//		bearer_token <token>
//		format       csv|json
//		ca_file      <pem file>
//		timeout      <duration>
//		max_size     <bytes>[KiB|MiB|GiB]
//	}
//
// The block is optional. A URL or a token given through a placeholder is
// checked when the configuration loads (Runtime). The dispenser is at the
// inventory_url token.
func Parse(d *caddyfile.Dispenser) (*Config, error) {
	c := new(Config)
	var every, interval string
	if !d.AllArgs(&c.URL, &every, &interval) || every != "every" {
		return nil, d.Err("want inventory_url <https url> every <duration>")
	}
	if !strings.HasPrefix(c.URL, "{") {
		if u, err := url.Parse(c.URL); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, d.Err("inventory_url must be an https URL")
		}
	}
	dur, err := caddy.ParseDuration(interval)
	if err != nil || dur < minInterval {
		return nil, d.Errf("inventory_url interval must be a duration of at least %v, got %q", minInterval, interval)
	}
	c.Interval = caddy.Duration(dur)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		var value string
		if !d.AllArgs(&value) {
			return nil, d.ArgErr()
		}
		switch option {
		case "bearer_token":
			c.BearerToken = value
		case "format":
			if value != "csv" && value != "json" {
				return nil, d.Errf("inventory_url format must be csv or json, got %q", value)
			}
			c.Format = value
		case "ca_file":
			c.CAFile = value
		case "timeout":
			dur, err := caddy.ParseDuration(value)
			if err != nil || dur <= 0 {
				return nil, d.Errf("inventory_url timeout must be a positive duration, got %q", value)
			}
			c.Timeout = caddy.Duration(dur)
		case "max_size":
			if c.MaxSize, err = parseSize(value); err != nil {
				return nil, d.Errf("inventory_url max_size: %v", err)
			}
		default:
			return nil, d.Errf("unknown inventory_url option %q (want bearer_token, format, ca_file, timeout or max_size)", option)
		}
	}
	return c, nil
}

// parseSize reads a positive number of bytes, optionally with a binary
// unit: 512, 64KiB, 200MiB, 1GiB.
func parseSize(s string) (int64, error) {
	number, unit := s, int64(1)
	for _, u := range []struct {
		suffix string
		bytes  int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			number, unit = n, u.bytes
			break
		}
	}
	n, err := strconv.ParseInt(number, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/unit {
		return 0, fmt.Errorf("want a positive size such as 64MiB, got %q", s)
	}
	return n * unit, nil
}
