package caddymodule

import (
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/caddymodule/internal/directive"
	"github.com/trustgate/trustgate/caddymodule/internal/integration"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/web"
)

// unmarshalDeviceOption parses one device-check option of the
// trusted_endpoints directive (see UnmarshalCaddyfile for the syntax). It
// reports false for an option that is not one of them.
func (h *Handler) unmarshalDeviceOption(d *caddyfile.Dispenser) (bool, error) {
	switch option := d.Val(); option {
	case "mode":
		return true, h.unmarshalMode(d)
	case "mobile":
		return true, h.unmarshalMobile(d)
	case "managed":
		return true, h.unmarshalManaged(d)
	case "trust_for", "push_timeout":
		dur, err := directive.DurationArg(d)
		if err != nil {
			return true, err
		}
		if option == "trust_for" {
			h.TrustFor = dur
		} else {
			h.PushTimeout = dur
		}
	case "enrollment":
		return true, h.unmarshalEnrollment(d)
	case "unbound":
		on, err := directive.OnOff(d)
		if err != nil {
			return true, err
		}
		h.Unbound = on
	case "app_links":
		if h.AppLinks != nil {
			return true, d.Err("app_links already specified")
		}
		links, err := parseAppLinks(d)
		if err != nil {
			return true, err
		}
		h.AppLinks = links
	case "origins":
		return true, h.unmarshalOrigins(d)
	case "passcode_attempts", "activation_attempts", "push_limit":
		return true, h.unmarshalAttemptLimit(d)
	case "fail_mode":
		var raw string
		if !d.AllArgs(&raw) {
			return true, d.ArgErr()
		}
		if _, err := prompt.ParseFailMode(raw); err != nil {
			return true, d.WrapErr(err)
		}
		h.FailMode = raw
	default:
		return false, nil
	}
	return true, nil
}

// unmarshalAttemptLimit parses passcode_attempts <n>,
// activation_attempts <n> or push_limit <n> <window>.
func (h *Handler) unmarshalAttemptLimit(d *caddyfile.Dispenser) error {
	switch option := d.Val(); option {
	case "passcode_attempts", "activation_attempts":
		var raw string
		if !d.AllArgs(&raw) {
			return d.ArgErr()
		}
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return d.Errf("%s must be a positive whole number, got %q", option, raw)
		}
		if option == "passcode_attempts" {
			h.PasscodeAttempts = n
		} else {
			h.ActivationAttempts = n
		}
	case "push_limit":
		var count, window string
		if !d.AllArgs(&count, &window) {
			return d.ArgErr()
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return d.Errf("push_limit count must be a positive whole number, got %q", count)
		}
		dur, err := caddy.ParseDuration(window)
		if err != nil || dur <= 0 {
			return d.Errf("push_limit window must be a positive duration, got %q", window)
		}
		h.PushLimit, h.PushWindow = n, caddy.Duration(dur)
	}
	return nil
}

// parseAppLinks parses the app_links block (see UnmarshalCaddyfile).
func parseAppLinks(d *caddyfile.Dispenser) (*AppLinks, error) {
	if d.NextArg() {
		return nil, d.ArgErr()
	}
	links := new(AppLinks)
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		switch option := d.Val(); option {
		case "apple":
			ids := d.RemainingArgs()
			if len(ids) == 0 {
				return nil, d.ArgErr()
			}
			if err := (&AppLinks{AppleAppIDs: ids}).validate(); err != nil {
				return nil, d.WrapErr(err)
			}
			links.AppleAppIDs = append(links.AppleAppIDs, ids...)
		case "android":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return nil, d.ArgErr()
			}
			app := AndroidAppLink{Package: args[0], SHA256CertFingerprints: args[1:]}
			if err := (&AppLinks{Android: []AndroidAppLink{app}}).validate(); err != nil {
				return nil, d.WrapErr(err)
			}
			links.Android = append(links.Android, app)
		default:
			return nil, d.Errf("unknown app_links option %q (want apple or android)", option)
		}
	}
	if len(links.AppleAppIDs) == 0 && len(links.Android) == 0 {
		return nil, d.Err("app_links names no app (apple or android)")
	}
	return links, nil
}

// unmarshalMode parses the mode line: mode off|check|block.
func (h *Handler) unmarshalMode(d *caddyfile.Dispenser) error {
	if h.Mode != "" {
		return d.Err("mode already specified")
	}
	var raw string
	if !d.AllArgs(&raw) {
		return d.ArgErr()
	}
	mode, err := policy.ParseMode(raw)
	if err != nil {
		return d.WrapErr(err)
	}
	h.Mode = mode
	return nil
}

// unmarshalManaged parses the managed block (integration.ParseManaged).
func (h *Handler) unmarshalManaged(d *caddyfile.Dispenser) error {
	if h.Managed != nil {
		return d.Err("managed already specified")
	}
	m, err := integration.ParseManaged(d)
	if err != nil {
		return err
	}
	h.Managed = m
	return nil
}

// unmarshalMobile parses the mobile block (integration.ParseMobile): the
// integration and its requirements.
func (h *Handler) unmarshalMobile(d *caddyfile.Dispenser) error {
	if h.Mobile != nil {
		return d.Err("mobile already specified")
	}
	mobile, requirements, err := integration.ParseMobile(d)
	if err != nil {
		return err
	}
	h.Mobile, h.Requirements = mobile, requirements
	return nil
}

// unmarshalOrigins parses an origins line; the lines add up.
func (h *Handler) unmarshalOrigins(d *caddyfile.Dispenser) error {
	origins := d.RemainingArgs()
	if len(origins) == 0 {
		return d.ArgErr()
	}
	for _, o := range origins {
		if err := web.CheckOrigin(o); err != nil {
			return d.Errf("origins: %v", err)
		}
	}
	h.Origins = append(h.Origins, origins...)
	return nil
}
