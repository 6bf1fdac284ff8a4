package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/trustgate/trustgate/caddymodule/internal/directive"
	"github.com/trustgate/trustgate/caddymodule/internal/limits"
	"github.com/trustgate/trustgate/caddymodule/login"
)

func init() {
	// Its place, before basic_auth, is set by internal/directive.
	httpcaddyfile.RegisterHandlerDirective("trusted_endpoints", parseCaddyfile)
	httpcaddyfile.RegisterGlobalOption("trusted_endpoints", parseGlobalOption)
}

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	var handler Handler
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return &handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	trusted_endpoints [<matcher>] {
//		application <name>
//		allow users  <name...>
//		allow groups <group...>
//		allow emails <address or *@domain...>
//		access_contact <text or email address>
//		login users_file <path>
//		login oidc {
//			issuer        <url>
//			client_id     <id>
//			client_secret <secret>
//			scopes        <scope...>
//			groups_claim  <claim>
//			user_claim    <claim>
//			redirect_url  <url>
//			timeout       <duration>
//			logout_redirect <url>
//			prompt        login|consent|select_account
//			revalidate    <duration>
//		}
//		login <source> ...
//		session_lifetime <duration>
//		session_cache_size <n>|off
//		session_realm <name>
//		lockout <attempts> <window>
//		upstream_headers {
//			user      <header>|-
//			email     <header>|-
//			groups    <header>|-
//			trust     <header>|-
//			device_id <header>|-
//		}
//		upstream_assertion {
//			header   <header>
//			lifetime <duration>
//			audience <aud>
//			issuer   <iss>
//		}
//
//		mode off|check|block
//		mobile {
//			enable disabled | all | groups <name...>
//			platforms <ios|android...>
//			require <kind...>
//			warn    <kind...> [until <YYYY-MM-DD|RFC 3339 time>]
//			min_os  <ios|android> <version>
//			min_security_patch <YYYY-MM-DD|YYYY-MM>
//			min_security_patch max_age <days>[d]
//			min_app_version <version>
//			os_up_to_date <ios|android> <latest version> [behind <n>] [unit major|minor]
//		}
//		managed {
//			enable disabled | all | groups <name...>
//			platforms <windows|macos|linux|ios|android...>
//			match fingerprint | serial | san_uri | hardware_serial
//		}
//		trust_for    <duration>
//		push_timeout <duration>
//		enrollment admin | self [block_mode] | approve
//		unbound    [on|off]
//		app_links {
//			apple   <TEAMID.bundle.id...>
//			android <package> <sha256 cert fingerprint...>
//		}
//		origins <scheme://host[:port]...>
//		passcode_attempts   <n>
//		activation_attempts <n>
//		push_limit <n> <window>
//		fail_mode secure|safe|check
//		limits {
//			device|ip|activation <events>/<window> [burst <n>] | off
//			keys         <n>
//			body_timeout <duration>
//		}
//	}
//
// login takes exactly one source: users_file and oidc are built in, and
// login <source> hands the rest of its line and block to the Caddyfile
// unmarshaler of a third party's trusted_endpoints.login.<source> module.
//
// allow lines add up: a person who matches any one user, group or email
// gets in, everyone else gets a 403 (before any device check). Without
// allow everyone the login source signs in gets in. Users and groups match
// exactly; emails without regard to case, and *@domain matches that domain
// only (not its subdomains).
//
// A missing or "-" upstream header name keeps the default or turns the
// header off, respectively.
//
// session_realm puts the site in the named realm: the sites of one realm
// accept each other's sessions, and must have the same login. Without it
// a site's realm is its login source (the users file, or the OIDC issuer
// and client ID), and it accepts no session issued under another.
//
// In the mobile block, a kind is one of screen_lock, biometrics,
// disk_encryption, not_tampered, min_os, min_security_patch,
// min_app_version and os_up_to_date. require and warn set the level of the
// kinds they name; a kind may be named more than once only with the same
// level and deadline. A line that gives a value (min_os,
// min_security_patch, min_app_version, os_up_to_date) for a kind that no
// require or warn line names makes it required. min_os and os_up_to_date
// take one line per platform; min_security_patch may have a date line and a
// max_age line, and then both must hold. until is a deadline after which a
// warning counts as required: a bare date means 00:00 UTC of that day (so
// "until 2027-01-15" warns up to the first instant of January 15th and
// requires from then on). enable defaults to disabled and platforms to both.
// A bare unbound means on. enrollment defaults to admin; the older bare
// enrollment and enrollment on mean self, enrollment off admin. enrollment
// self in mode block is refused without block_mode.
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // consume directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "application":
			if !d.AllArgs(&h.Application) {
				return d.ArgErr()
			}
		case "login":
			if h.LoginRaw != nil {
				return d.Err("login already specified")
			}
			raw, err := login.ParseCaddyfile(d)
			if err != nil {
				return err
			}
			h.LoginRaw = raw
		case "session_lifetime", "session_cache_size", "lockout":
			if err := h.unmarshalSessionOption(d); err != nil {
				return err
			}
		case "upstream_headers":
			u, err := parseUpstreamHeaders(d)
			if err != nil {
				return err
			}
			h.UpstreamHeaders = u
		case "allow", "access_contact":
			if err := h.unmarshalAccess(d); err != nil {
				return err
			}
		case "upstream_assertion":
			if err := h.unmarshalUpstreamAssertion(d); err != nil {
				return err
			}
		case "limits":
			if h.Limits != nil {
				return d.Err("limits already specified")
			}
			l, err := limits.Parse(d)
			if err != nil {
				return err
			}
			h.Limits = l
		case "session_realm":
			if err := h.unmarshalSessionRealm(d); err != nil {
				return err
			}
		default:
			handled, err := h.unmarshalDeviceOption(d)
			if err != nil {
				return err
			}
			if !handled {
				return d.Errf("unknown trusted_endpoints option %q", d.Val())
			}
		}
	}
	if err := h.checkEnrollmentLine(); err != nil {
		return err
	}
	return directive.WrapAt(d, login.CheckSource(h.LoginRaw))
}

// unmarshalSessionOption parses one of session_lifetime <duration>,
// session_cache_size <n>|off and lockout <attempts> <window>.
func (h *Handler) unmarshalSessionOption(d *caddyfile.Dispenser) error {
	switch d.Val() {
	case "session_lifetime":
		dur, err := directive.DurationArg(d)
		if err != nil {
			return err
		}
		h.SessionLifetime = dur
	case "session_cache_size":
		var raw string
		if !d.AllArgs(&raw) {
			return d.ArgErr()
		}
		if raw == "off" {
			h.SessionCacheSize = -1
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return d.Errf("session_cache_size must be a positive whole number or off, got %q", raw)
		}
		h.SessionCacheSize = n
	case "lockout":
		var attempts, window string
		if !d.AllArgs(&attempts, &window) {
			return d.ArgErr()
		}
		n, err := strconv.Atoi(attempts)
		if err != nil || n < 1 {
			return d.Errf("lockout attempts must be a positive whole number, got %q", attempts)
		}
		dur, err := caddy.ParseDuration(window)
		if err != nil || dur <= 0 {
			return d.Errf("lockout window must be a positive duration, got %q", window)
		}
		h.LockoutAttempts, h.LockoutWindow = n, caddy.Duration(dur)
	}
	return nil
}

// parseUpstreamHeaders parses the upstream_headers block.
func parseUpstreamHeaders(d *caddyfile.Dispenser) (*UpstreamHeaders, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	u := new(UpstreamHeaders)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		var target *string
		switch d.Val() {
		case "user":
			target = &u.User
		case "email":
			target = &u.Email
		case "groups":
			target = &u.Groups
		case "trust":
			target = &u.Trust
		case "device_id":
			target = &u.DeviceID
		default:
			return nil, d.Errf("unknown upstream_headers field %q (want user, email, groups, trust or device_id)", d.Val())
		}
		if !d.AllArgs(target) {
			return nil, d.ArgErr()
		}
		if err := checkHeaderName(*target); err != nil {
			return nil, d.WrapErr(err)
		}
	}
	return u, nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
