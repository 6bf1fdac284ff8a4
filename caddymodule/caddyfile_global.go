package caddymodule

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/trustgate/trustgate/caddymodule/storage"
)

// parseGlobalOption sets up the trusted_endpoints app. Syntax:
//
//	trusted_endpoints {
//		storage sqlite [<path>] | postgres <dsn> | <backend> ...
//		cookie_key <hash_key_base64> <block_key_base64>
//		trust_cache_size <n>
//		retention {
//			auth_log         <duration>|forever
//			inactive_devices <duration>|forever
//		}
//		signing_key_rotation <duration>|off
//		inventory_url <https url> every <duration> {
//			bearer_token <token>
//			format       csv|json
//			ca_file      <pem file>
//			timeout      <duration>
//			max_size     <bytes>[KiB|MiB|GiB]
//		}
//	}
//
// storage names a trusted_endpoints.storage module, whose own Caddyfile
// parser reads the rest of the line. cookie_key may repeat; the first
// signs new cookies. trust_cache_size is how many device-trust decisions
// are kept in memory (default 100000).
// retention says how long auth-log entries (default 180d) and devices not
// active for a while (default 30d) are kept; forever keeps them.
// signing_key_rotation is how often a new key signs the upstream assertions
// (default 30d, at least 1h); off rotates only through the admin API.
// inventory_url fetches the inventory of managed devices from an export
// every interval (at least 1m); its block is optional (see
// InventoryFetchConfig).
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	app := new(App)
	if existing != nil {
		return nil, d.Err("trusted_endpoints global option specified more than once")
	}
	d.Next() // consume option name
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "storage":
			if app.StorageRaw != nil {
				return nil, d.Err("storage already specified")
			}
			raw, err := storage.ParseCaddyfile(d)
			if err != nil {
				return nil, err
			}
			app.StorageRaw = raw
		case "cookie_key":
			var k CookieKeyConfig
			if !d.AllArgs(&k.HashKey, &k.BlockKey) {
				return nil, d.ArgErr()
			}
			if _, err := decodeCookieKeys([]CookieKeyConfig{k}); err != nil && !hasPlaceholder(k) {
				return nil, d.Errf("cookie_key: %v", err)
			}
			app.CookieKeys = append(app.CookieKeys, k)
		case "trust_cache_size":
			var raw string
			if !d.AllArgs(&raw) {
				return nil, d.ArgErr()
			}
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 {
				return nil, d.Errf("trust_cache_size must be a positive whole number, got %q", raw)
			}
			app.TrustCacheSize = n
		case "signing_key_rotation":
			if err := parseSigningKeyRotation(d, app); err != nil {
				return nil, err
			}
		case "retention":
			if app.Retention != nil {
				return nil, d.Err("retention already specified")
			}
			r, err := parseRetention(d)
			if err != nil {
				return nil, err
			}
			app.Retention = r
		case "inventory_url":
			if app.InventoryFetch != nil {
				return nil, d.Err("inventory_url already specified")
			}
			fetch, err := parseInventoryURL(d)
			if err != nil {
				return nil, err
			}
			app.InventoryFetch = fetch
		default:
			return nil, d.Errf("unknown trusted_endpoints global option %q", d.Val())
		}
	}
	return httpcaddyfile.App{
		Name:  appName,
		Value: caddyconfig.JSON(app, nil),
	}, nil
}

// parseRetention parses the block of the retention global option. A period
// is a positive duration (days as d, such as 180d) or forever, which is
// stored as a negative duration.
func parseRetention(d *caddyfile.Dispenser) (*RetentionConfig, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	r := new(RetentionConfig)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		option := d.Val()
		var target *caddy.Duration
		switch option {
		case "auth_log":
			target = &r.AuthLog
		case "inactive_devices":
			target = &r.InactiveDevices
		default:
			return nil, d.Errf("unknown retention option %q (want auth_log or inactive_devices)", option)
		}
		if *target != 0 {
			return nil, d.Errf("retention %s already specified", option)
		}
		var raw string
		if !d.AllArgs(&raw) {
			return nil, d.ArgErr()
		}
		if raw == "forever" {
			*target = -1
			continue
		}
		dur, err := caddy.ParseDuration(raw)
		if err != nil || dur <= 0 {
			return nil, d.Errf("retention %s must be a positive duration such as 30d, or forever; got %q", option, raw)
		}
		*target = caddy.Duration(dur)
	}
	return r, nil
}

// parseInventoryURL parses inventory_url <url> every <duration> and its
// optional block. A URL or a token given through a placeholder is checked
// when the configuration loads.
func parseInventoryURL(d *caddyfile.Dispenser) (*InventoryFetchConfig, error) {
	c := new(InventoryFetchConfig)
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
	if err != nil || dur < minInventoryFetchInterval {
		return nil, d.Errf("inventory_url interval must be a duration of at least %v, got %q", minInventoryFetchInterval, interval)
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

// hasPlaceholder reports whether a key is given through a placeholder such
// as {env.TG_HASH_KEY}, which is only known when the config loads.
func hasPlaceholder(k CookieKeyConfig) bool {
	return len(k.HashKey) > 0 && k.HashKey[0] == '{' || len(k.BlockKey) > 0 && k.BlockKey[0] == '{'
}
