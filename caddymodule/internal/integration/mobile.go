package integration

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

// ParseMobile parses the mobile block of the trusted_endpoints directive:
// the integration of the trustgate app and the health its devices must
// report. Syntax:
//
//	mobile {
//		enable disabled | all | groups <name...>
//		platforms <ios|android...>
//		require <kind...>
//		warn    <kind...> [until <YYYY-MM-DD|RFC 3339 time>]
//		min_os  <ios|android> <version>
//		min_security_patch <YYYY-MM-DD|YYYY-MM>
//		min_security_patch max_age <days>[d]
//		min_app_version <version>
//		os_up_to_date <ios|android> <latest version> [behind <n>] [unit major|minor]
//	}
//
// The dispenser is at the mobile token. The requirements are nil when the
// block names none. The handler's UnmarshalCaddyfile documents what each
// line means.
func ParseMobile(d *caddyfile.Dispenser) (*policy.Integration, *policy.Requirements, error) {
	if d.NextArg() {
		return nil, nil, d.ArgErr()
	}
	s := &scope{block: "mobile", parsePlatform: policy.ParsePlatform}
	r := newRequirementsParser("mobile")
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		handled, err := s.line(d)
		if !handled && err == nil {
			handled, err = r.line(d)
		}
		if err != nil {
			return nil, nil, err
		}
		if !handled {
			return nil, nil, d.Errf("unknown mobile option %q (want enable, platforms, require, warn, min_os, min_security_patch, min_app_version or os_up_to_date)", d.Val())
		}
	}
	requirements, err := r.result(d)
	if err != nil {
		return nil, nil, err
	}
	return &policy.Integration{State: s.state, Groups: s.groups, Platforms: s.platforms}, requirements, nil
}
