package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"

	"github.com/trustgate/trustgate/caddymodule/internal/inventoryfetch"
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
// inventoryfetch.Config).
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
			fetch, err := inventoryfetch.Parse(d)
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

// hasPlaceholder reports whether a key is given through a placeholder such
// as {env.TG_HASH_KEY}, which is only known when the config loads.
func hasPlaceholder(k CookieKeyConfig) bool {
	return len(k.HashKey) > 0 && k.HashKey[0] == '{' || len(k.BlockKey) > 0 && k.BlockKey[0] == '{'
}
