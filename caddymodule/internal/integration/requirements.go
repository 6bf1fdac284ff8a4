package integration

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

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

// requirementsParser reads the device-health lines of an integration
// block:
//
//	require <kind...>
//	warn    <kind...> [until <YYYY-MM-DD|RFC 3339 time>]
//	min_os  <platform> <version>
//	min_security_patch <YYYY-MM-DD|YYYY-MM>
//	min_security_patch max_age <days>[d]
//	min_app_version <version>
//	os_up_to_date <platform> <latest version> [behind <n>] [unit major|minor]
type requirementsParser struct {
	// block names the integration block in errors ("mobile").
	block        string
	requirements policy.Requirements
	// levels are the rules set by require and warn lines; valued the kinds
	// that a value line configured.
	levels map[policy.Kind]policy.Rule
	valued map[policy.Kind]bool
}

func newRequirementsParser(block string) *requirementsParser {
	return &requirementsParser{block: block, levels: map[policy.Kind]policy.Rule{}, valued: map[policy.Kind]bool{}}
}

// line reads one requirement line. It reports false for any other line.
func (r *requirementsParser) line(d *caddyfile.Dispenser) (bool, error) {
	switch option := d.Val(); option {
	case "require", "warn":
		return true, r.level(d, policy.Level(option))
	case "min_os":
		return true, r.minOS(d)
	case "min_security_patch":
		return true, r.minSecurityPatch(d)
	case "min_app_version":
		return true, r.minAppVersion(d)
	case "os_up_to_date":
		return true, r.osUpToDate(d)
	}
	return false, nil
}

// result returns the requirements once the block is read: a value line
// whose kind no require or warn line names makes it required, and a kind
// named without its value line is an error. It is nil when the block names
// no requirement.
func (r *requirementsParser) result(d *caddyfile.Dispenser) (*policy.Requirements, error) {
	for _, k := range valueKinds {
		if _, named := r.levels[k]; r.valued[k] && !named {
			r.levels[k] = policy.Rule{Level: policy.Require}
		}
		if rule, named := r.levels[k]; named && !r.valued[k] {
			return nil, d.Errf("%s: %s is set to %s but no %s line gives its value", r.block, k, rule.Level, k)
		}
	}
	if len(r.levels) == 0 {
		return nil, nil
	}
	for k, rule := range r.levels {
		*ruleOf(&r.requirements, k) = rule
	}
	return &r.requirements, nil
}

// level parses: require <kind...> | warn <kind...> [until <deadline>]
func (r *requirementsParser) level(d *caddyfile.Dispenser, level policy.Level) error {
	args := d.RemainingArgs()
	rule := policy.Rule{Level: level}
	for i, a := range args {
		if a != "until" {
			continue
		}
		if level != policy.Warn {
			return d.Errf("%s %s: until is only allowed with warn", r.block, level)
		}
		if i != len(args)-2 {
			return d.Errf("%s warn: until takes exactly one deadline, at the end of the line", r.block)
		}
		deadline, err := parseDeadline(args[i+1])
		if err != nil {
			return d.Errf("%s warn: %v", r.block, err)
		}
		rule.Until = deadline
		args = args[:i]
		break
	}
	if len(args) == 0 {
		return d.Errf("%s %s: name at least one requirement (%s)", r.block, level, kindList())
	}
	for _, a := range args {
		k := policy.Kind(a)
		if ruleOf(&r.requirements, k) == nil {
			return d.Errf("%s %s: unknown requirement %q (want %s)", r.block, level, a, kindList())
		}
		if prev, named := r.levels[k]; named && (prev.Level != rule.Level || !prev.Until.Equal(rule.Until)) {
			return d.Errf("%s %s: requirement %q is already set to %s", r.block, level, a, describeRule(prev))
		}
		r.levels[k] = rule
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
func (r *requirementsParser) minOS(d *caddyfile.Dispenser) error {
	var rawPlatform, raw string
	if !d.AllArgs(&rawPlatform, &raw) {
		return d.ArgErr()
	}
	p, err := policy.ParsePlatform(rawPlatform)
	if err != nil {
		return d.Errf("%s min_os: %v", r.block, err)
	}
	if _, err := policy.ParseVersion(raw); err != nil {
		return d.Errf("%s min_os %s: invalid version %q: %v", r.block, p, raw, err)
	}
	if _, dup := r.requirements.MinOS.Versions[p]; dup {
		return d.Errf("%s min_os: %s already has a minimum version", r.block, p)
	}
	if r.requirements.MinOS.Versions == nil {
		r.requirements.MinOS.Versions = map[policy.Platform]string{}
	}
	r.requirements.MinOS.Versions[p] = raw
	r.valued[policy.KindMinOS] = true
	return nil
}

// minSecurityPatch parses: min_security_patch <date> | max_age <days>[d]
func (r *requirementsParser) minSecurityPatch(d *caddyfile.Dispenser) error {
	patch := &r.requirements.MinSecurityPatch
	args := d.RemainingArgs()
	switch {
	case len(args) == 1:
		if patch.Date != "" {
			return d.Errf("%s: min_security_patch date already specified", r.block)
		}
		if _, err := policy.ParsePatchDate(args[0]); err != nil {
			return d.Errf("%s min_security_patch: %v", r.block, err)
		}
		patch.Date = args[0]
	case len(args) == 2 && args[0] == "max_age":
		if patch.MaxAgeDays != 0 {
			return d.Errf("%s: min_security_patch max_age already specified", r.block)
		}
		days, err := strconv.Atoi(strings.TrimSuffix(args[1], "d"))
		if err != nil || days < 1 {
			return d.Errf("%s min_security_patch max_age: want a positive number of days like 90d, got %q", r.block, args[1])
		}
		patch.MaxAgeDays = days
	case len(args) == 2:
		return d.Errf("%s min_security_patch: unknown option %q (want a date or max_age <days>)", r.block, args[0])
	default:
		return d.ArgErr()
	}
	r.valued[policy.KindMinSecurityPatch] = true
	return nil
}

// minAppVersion parses: min_app_version <version>
func (r *requirementsParser) minAppVersion(d *caddyfile.Dispenser) error {
	var raw string
	if !d.AllArgs(&raw) {
		return d.ArgErr()
	}
	if r.requirements.MinAppVersion.Version != "" {
		return d.Errf("%s: min_app_version already specified", r.block)
	}
	if _, err := policy.ParseVersion(raw); err != nil {
		return d.Errf("%s min_app_version: invalid version %q: %v", r.block, raw, err)
	}
	r.requirements.MinAppVersion.Version = raw
	r.valued[policy.KindMinAppVersion] = true
	return nil
}

// osUpToDate parses:
// os_up_to_date <platform> <latest version> [behind <n>] [unit major|minor]
func (r *requirementsParser) osUpToDate(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) < 2 || len(args)%2 != 0 {
		return d.ArgErr()
	}
	p, err := policy.ParsePlatform(args[0])
	if err != nil {
		return d.Errf("%s os_up_to_date: %v", r.block, err)
	}
	if _, err := policy.ParseVersion(args[1]); err != nil {
		return d.Errf("%s os_up_to_date %s: invalid version %q: %v", r.block, p, args[1], err)
	}
	latest := policy.Latest{Version: args[1]}
	seen := map[string]bool{}
	for i := 2; i < len(args); i += 2 {
		option, value := args[i], args[i+1]
		if seen[option] {
			return d.Errf("%s os_up_to_date %s: %s given twice", r.block, p, option)
		}
		seen[option] = true
		if err := r.latestOption(d, p, &latest, option, value); err != nil {
			return err
		}
	}
	if _, dup := r.requirements.OSUpToDate.Latest[p]; dup {
		return d.Errf("%s os_up_to_date: %s already has a latest version", r.block, p)
	}
	if r.requirements.OSUpToDate.Latest == nil {
		r.requirements.OSUpToDate.Latest = map[policy.Platform]policy.Latest{}
	}
	r.requirements.OSUpToDate.Latest[p] = latest
	r.valued[policy.KindOSUpToDate] = true
	return nil
}

// latestOption reads one "behind <n>" or "unit major|minor" of an
// os_up_to_date line for platform p into latest.
func (r *requirementsParser) latestOption(d *caddyfile.Dispenser, p policy.Platform, latest *policy.Latest, option, value string) error {
	switch option {
	case "behind":
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 {
			return d.Errf("%s os_up_to_date %s: behind must be a whole number of releases, got %q", r.block, p, value)
		}
		latest.Behind = n
	case "unit":
		switch unit := policy.Unit(value); unit {
		case policy.Major, policy.Minor:
			latest.Unit = unit
		default:
			return d.Errf("%s os_up_to_date %s: unknown unit %q (want major or minor)", r.block, p, value)
		}
	default:
		return d.Errf("%s os_up_to_date %s: unknown option %q (want behind or unit)", r.block, p, option)
	}
	return nil
}
