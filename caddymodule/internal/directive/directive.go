// Package directive holds the Caddyfile reading that caddymodule and its
// guest-module packages (login, storage) share, so that a setting reads and
// fails the same way whichever package parses it.
package directive

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// DurationArg parses the one positive duration of an option's line.
func DurationArg(d *caddyfile.Dispenser) (caddy.Duration, error) {
	var raw string
	if !d.AllArgs(&raw) {
		return 0, d.ArgErr()
	}
	dur, err := caddy.ParseDuration(raw)
	if err != nil {
		return 0, d.Errf("invalid duration %q: %v", raw, err)
	}
	if dur <= 0 {
		return 0, d.Errf("duration must be positive, got %q", raw)
	}
	return caddy.Duration(dur), nil
}

// WrapAt adds the dispenser's file and line to a setting's error, so that
// a Caddyfile's error is the JSON's error with its position.
func WrapAt(d *caddyfile.Dispenser, err error) error {
	if err == nil {
		return nil
	}
	return d.WrapErr(err)
}

// OnOff parses an option's optional on or off; a bare option means on.
func OnOff(d *caddyfile.Dispenser) (bool, error) {
	option := d.Val()
	args := d.RemainingArgs()
	switch {
	case len(args) == 0:
		return true, nil
	case len(args) > 1:
		return false, d.ArgErr()
	}
	switch args[0] {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, d.Errf("%s: want on or off, got %q", option, args[0])
}
