package integration

import (
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

// scope reads the lines that say to whom and on which platforms an
// integration applies, which every integration block shares:
//
//	enable disabled | all | groups <name...>
//	platforms <platform...>
//
// Its fields become those of the integration's policy value
// (policy.Integration for mobile; policy.Managed has the same three).
type scope struct {
	// block names the integration block in errors ("mobile").
	block string
	// parsePlatform reads one platform the integration can check
	// (policy.ParsePlatform for mobile, policy.ParseManagedPlatform for a
	// managed device).
	parsePlatform func(string) (policy.Platform, error)

	state      policy.State
	groups     []string
	platforms  []policy.Platform
	enableSeen bool
}

// line reads an enable or platforms line. It reports false for any other
// line, which the integration's own parser reads.
func (s *scope) line(d *caddyfile.Dispenser) (bool, error) {
	switch d.Val() {
	case "enable":
		return true, s.enableLine(d)
	case "platforms":
		return true, s.platformsLine(d)
	}
	return false, nil
}

// enableLine parses: enable disabled | all | groups <name...>
func (s *scope) enableLine(d *caddyfile.Dispenser) error {
	if s.enableSeen {
		return d.Errf("%s: enable already specified", s.block)
	}
	s.enableSeen = true
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	state, err := policy.ParseState(args[0])
	if err != nil {
		return d.Errf("%s enable: %v", s.block, err)
	}
	switch {
	case state == policy.Groups && len(args) == 1:
		return d.Errf("%s enable groups: name at least one group", s.block)
	case state != policy.Groups && len(args) > 1:
		return d.Errf("%s enable %s takes no group names, got %q", s.block, state, args[1])
	}
	s.state = state
	if state == policy.Groups {
		s.groups = args[1:]
	}
	return nil
}

// platformsLine parses: platforms <platform...>, each listed once.
func (s *scope) platformsLine(d *caddyfile.Dispenser) error {
	if len(s.platforms) > 0 {
		return d.Errf("%s: platforms already specified", s.block)
	}
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.ArgErr()
	}
	for _, a := range args {
		p, err := s.parsePlatform(a)
		if err != nil {
			return d.Errf("%s platforms: %v", s.block, err)
		}
		for _, seen := range s.platforms {
			if seen == p {
				return d.Errf("%s platforms: %q listed twice", s.block, a)
			}
		}
		s.platforms = append(s.platforms, p)
	}
	return nil
}
