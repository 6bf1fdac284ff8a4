package integration

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

// ParseManaged parses the managed block of the trusted_endpoints
// directive: to whom and on which platforms a managed device (one whose
// verified client certificate is in the inventory) vouches for the access
// device, and which identifier of the certificate is looked up. Syntax:
//
//	managed {
//		enable disabled | all | groups <name...>
//		platforms <windows|macos|linux|ios|android...>
//		match fingerprint | serial | san_uri | hardware_serial
//	}
//
// The dispenser is at the managed token. Where the mobile block applies to
// a person on iOS or Android, the managed block is not consulted for that
// platform (policy.Policy.Decider).
func ParseManaged(d *caddyfile.Dispenser) (*policy.Managed, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	s := &scope{block: "managed", parsePlatform: policy.ParseManagedPlatform}
	var match policy.Match
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		handled, err := s.line(d)
		if err != nil {
			return nil, err
		}
		if handled {
			continue
		}
		if d.Val() != "match" {
			return nil, d.Errf("unknown managed option %q (want enable, platforms or match)", d.Val())
		}
		if match != "" {
			return nil, d.Err("managed: match already specified")
		}
		if match, err = matchLine(d); err != nil {
			return nil, err
		}
	}
	return &policy.Managed{State: s.state, Groups: s.groups, Platforms: s.platforms, Match: match}, nil
}

// matchLine parses: match fingerprint | serial | san_uri | hardware_serial
func matchLine(d *caddyfile.Dispenser) (policy.Match, error) {
	if !d.NextArg() {
		return "", d.ArgErr()
	}
	m, err := policy.ParseMatch(d.Val())
	if err != nil {
		return "", d.Errf("managed match: %v", err)
	}
	if d.NextArg() {
		return "", d.ArgErr()
	}
	return m, nil
}
