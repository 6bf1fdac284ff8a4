package caddymodule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/caddymodule/internal/directive"
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
		on, err := parseOnOff(d)
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

// parseOnOff parses an optional on or off; a bare option means on.
func parseOnOff(d *caddyfile.Dispenser) (bool, error) {
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

// configurableKinds are the requirement kinds a Caddyfile may name, in the
// order the documentation lists them.
var configurableKinds = []policy.Kind{
	policy.KindScreenLock, policy.KindBiometrics, policy.KindDiskEncryption, policy.KindNotTampered,
	policy.KindMinOS, policy.KindMinSecurityPatch, policy.KindMinAppVersion, policy.KindOSUpToDate,
}

// valueKinds are the kinds that need a value line (min_os ios 17.4, ...).
var valueKinds = []policy.Kind{
	policy.KindMinOS, policy.KindMinSecurityPatch, policy.KindMinAppVersion, policy.KindOSUpToDate,
}

// ruleOf returns the rule of kind k in r, or nil for a kind that cannot be
// configured.
func ruleOf(r *policy.Requirements, k policy.Kind) *policy.Rule {
	switch k {
	case policy.KindScreenLock:
		return &r.ScreenLock
	case policy.KindBiometrics:
		return &r.Biometrics
	case policy.KindDiskEncryption:
		return &r.DiskEncryption
	case policy.KindNotTampered:
		return &r.NotTampered
	case policy.KindMinOS:
		return &r.MinOS.Rule
	case policy.KindMinSecurityPatch:
		return &r.MinSecurityPatch.Rule
	case policy.KindMinAppVersion:
		return &r.MinAppVersion.Rule
	case policy.KindOSUpToDate:
		return &r.OSUpToDate.Rule
	}
	return nil
}

func kindList() string {
	names := make([]string, len(configurableKinds))
	for i, k := range configurableKinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// mobileParser collects the lines of a mobile block.
type mobileParser struct {
	d            *caddyfile.Dispenser
	integration  policy.Integration
	enableSeen   bool
	requirements policy.Requirements
	// levels are the rules set by require and warn lines; valued the kinds
	// that a value line configured.
	levels map[policy.Kind]policy.Rule
	valued map[policy.Kind]bool
}

// parseMobile parses the mobile block (see UnmarshalCaddyfile). The
// requirements are nil when the block names none.
func parseMobile(d *caddyfile.Dispenser) (*policy.Integration, *policy.Requirements, error) {
	m := &mobileParser{d: d, levels: map[policy.Kind]policy.Rule{}, valued: map[policy.Kind]bool{}}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		if err := m.line(); err != nil {
			return nil, nil, err
		}
	}
	for _, k := range valueKinds {
		if _, named := m.levels[k]; m.valued[k] && !named {
			m.levels[k] = policy.Rule{Level: policy.Require}
		}
		if rule, named := m.levels[k]; named && !m.valued[k] {
			return nil, nil, d.Errf("mobile: %s is set to %s but no %s line gives its value", k, rule.Level, k)
		}
	}
	if len(m.levels) == 0 {
		return &m.integration, nil, nil
	}
	for k, rule := range m.levels {
		*ruleOf(&m.requirements, k) = rule
	}
	return &m.integration, &m.requirements, nil
}

func (m *mobileParser) line() error {
	d := m.d
	switch option := d.Val(); option {
	case "enable":
		return m.enable()
	case "platforms":
		if len(m.integration.Platforms) > 0 {
			return d.Err("mobile: platforms already specified")
		}
		args := d.RemainingArgs()
		if len(args) == 0 {
			return d.ArgErr()
		}
		for _, a := range args {
			p, err := policy.ParsePlatform(a)
			if err != nil {
				return d.Errf("mobile platforms: %v", err)
			}
			for _, seen := range m.integration.Platforms {
				if seen == p {
					return d.Errf("mobile platforms: %q listed twice", a)
				}
			}
			m.integration.Platforms = append(m.integration.Platforms, p)
		}
	case "require", "warn":
		return m.level(policy.Level(option))
	case "min_os":
		return m.minOS()
	case "min_security_patch":
		return m.minSecurityPatch()
	case "min_app_version":
		var raw string
		if !d.AllArgs(&raw) {
			return d.ArgErr()
		}
		if m.requirements.MinAppVersion.Version != "" {
			return d.Err("mobile: min_app_version already specified")
		}
		if _, err := policy.ParseVersion(raw); err != nil {
			return d.Errf("mobile min_app_version: invalid version %q: %v", raw, err)
		}
		m.requirements.MinAppVersion.Version = raw
		m.valued[policy.KindMinAppVersion] = true
	case "os_up_to_date":
		return m.osUpToDate()
	default:
		return d.Errf("unknown mobile option %q (want enable, platforms, require, warn, min_os, min_security_patch, min_app_version or os_up_to_date)", option)
	}
	return nil
}

// enable parses: enable disabled | all | groups <name...>
func (m *mobileParser) enable() error {
	d := m.d
	if m.enableSeen {
		return d.Err("mobile: enable already specified")
	}
	m.enableSeen = true
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	state, err := policy.ParseState(args[0])
	if err != nil {
		return d.Errf("mobile enable: %v", err)
	}
	switch {
	case state == policy.Groups && len(args) == 1:
		return d.Err("mobile enable groups: name at least one group")
	case state != policy.Groups && len(args) > 1:
		return d.Errf("mobile enable %s takes no group names, got %q", state, args[1])
	}
	m.integration.State = state
	if state == policy.Groups {
		m.integration.Groups = args[1:]
	}
	return nil
}

// level parses: require <kind...> | warn <kind...> [until <deadline>]
func (m *mobileParser) level(level policy.Level) error {
	d := m.d
	args := d.RemainingArgs()
	rule := policy.Rule{Level: level}
	for i, a := range args {
		if a != "until" {
			continue
		}
		if level != policy.Warn {
			return d.Errf("mobile %s: until is only allowed with warn", level)
		}
		if i != len(args)-2 {
			return d.Errf("mobile warn: until takes exactly one deadline, at the end of the line")
		}
		deadline, err := parseDeadline(args[i+1])
		if err != nil {
			return d.Errf("mobile warn: %v", err)
		}
		rule.Until = deadline
		args = args[:i]
		break
	}
	if len(args) == 0 {
		return d.Errf("mobile %s: name at least one requirement (%s)", level, kindList())
	}
	for _, a := range args {
		k := policy.Kind(a)
		if ruleOf(&m.requirements, k) == nil {
			return d.Errf("mobile %s: unknown requirement %q (want %s)", level, a, kindList())
		}
		if prev, named := m.levels[k]; named && (prev.Level != rule.Level || !prev.Until.Equal(rule.Until)) {
			return d.Errf("mobile %s: requirement %q is already set to %s", level, a, describeRule(prev))
		}
		m.levels[k] = rule
	}
	return nil
}

func describeRule(r policy.Rule) string {
	if r.Until.IsZero() {
		return string(r.Level)
	}
	return string(r.Level) + " until " + r.Until.Format(time.RFC3339)
}

// parseDeadline parses a warn deadline: YYYY-MM-DD, meaning 00:00 UTC of
// that day, or an RFC 3339 time. The result is in UTC.
func parseDeadline(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("deadline %q is not a date (YYYY-MM-DD) or an RFC 3339 time", s)
}

// minOS parses: min_os <platform> <version>
func (m *mobileParser) minOS() error {
	d := m.d
	var rawPlatform, raw string
	if !d.AllArgs(&rawPlatform, &raw) {
		return d.ArgErr()
	}
	p, err := policy.ParsePlatform(rawPlatform)
	if err != nil {
		return d.Errf("mobile min_os: %v", err)
	}
	if _, err := policy.ParseVersion(raw); err != nil {
		return d.Errf("mobile min_os %s: invalid version %q: %v", p, raw, err)
	}
	if _, dup := m.requirements.MinOS.Versions[p]; dup {
		return d.Errf("mobile min_os: %s already has a minimum version", p)
	}
	if m.requirements.MinOS.Versions == nil {
		m.requirements.MinOS.Versions = map[policy.Platform]string{}
	}
	m.requirements.MinOS.Versions[p] = raw
	m.valued[policy.KindMinOS] = true
	return nil
}

// minSecurityPatch parses: min_security_patch <date> | max_age <days>[d]
func (m *mobileParser) minSecurityPatch() error {
	d := m.d
	patch := &m.requirements.MinSecurityPatch
	args := d.RemainingArgs()
	switch {
	case len(args) == 1:
		if patch.Date != "" {
			return d.Err("mobile: min_security_patch date already specified")
		}
		if _, err := policy.ParsePatchDate(args[0]); err != nil {
			return d.Errf("mobile min_security_patch: %v", err)
		}
		patch.Date = args[0]
	case len(args) == 2 && args[0] == "max_age":
		if patch.MaxAgeDays != 0 {
			return d.Err("mobile: min_security_patch max_age already specified")
		}
		days, err := strconv.Atoi(strings.TrimSuffix(args[1], "d"))
		if err != nil || days < 1 {
			return d.Errf("mobile min_security_patch max_age: want a positive number of days like 90d, got %q", args[1])
		}
		patch.MaxAgeDays = days
	case len(args) == 2:
		return d.Errf("mobile min_security_patch: unknown option %q (want a date or max_age <days>)", args[0])
	default:
		return d.ArgErr()
	}
	m.valued[policy.KindMinSecurityPatch] = true
	return nil
}

// osUpToDate parses:
// os_up_to_date <platform> <latest version> [behind <n>] [unit major|minor]
func (m *mobileParser) osUpToDate() error {
	d := m.d
	args := d.RemainingArgs()
	if len(args) < 2 || len(args)%2 != 0 {
		return d.ArgErr()
	}
	p, err := policy.ParsePlatform(args[0])
	if err != nil {
		return d.Errf("mobile os_up_to_date: %v", err)
	}
	if _, err := policy.ParseVersion(args[1]); err != nil {
		return d.Errf("mobile os_up_to_date %s: invalid version %q: %v", p, args[1], err)
	}
	latest := policy.Latest{Version: args[1]}
	seen := map[string]bool{}
	for i := 2; i < len(args); i += 2 {
		option, value := args[i], args[i+1]
		if seen[option] {
			return d.Errf("mobile os_up_to_date %s: %s given twice", p, option)
		}
		seen[option] = true
		switch option {
		case "behind":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return d.Errf("mobile os_up_to_date %s: behind must be a whole number of releases, got %q", p, value)
			}
			latest.Behind = n
		case "unit":
			switch unit := policy.Unit(value); unit {
			case policy.Major, policy.Minor:
				latest.Unit = unit
			default:
				return d.Errf("mobile os_up_to_date %s: unknown unit %q (want major or minor)", p, value)
			}
		default:
			return d.Errf("mobile os_up_to_date %s: unknown option %q (want behind or unit)", p, option)
		}
	}
	if _, dup := m.requirements.OSUpToDate.Latest[p]; dup {
		return d.Errf("mobile os_up_to_date: %s already has a latest version", p)
	}
	if m.requirements.OSUpToDate.Latest == nil {
		m.requirements.OSUpToDate.Latest = map[policy.Platform]policy.Latest{}
	}
	m.requirements.OSUpToDate.Latest[p] = latest
	m.valued[policy.KindOSUpToDate] = true
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

// unmarshalMobile parses the mobile block: the integration and its
// requirements.
func (h *Handler) unmarshalMobile(d *caddyfile.Dispenser) error {
	if h.Mobile != nil {
		return d.Err("mobile already specified")
	}
	if d.NextArg() {
		return d.ArgErr()
	}
	integration, requirements, err := parseMobile(d)
	if err != nil {
		return err
	}
	h.Mobile, h.Requirements = integration, requirements
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
