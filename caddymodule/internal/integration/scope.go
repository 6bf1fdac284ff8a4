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
type scope struct {
	// block names the integration block in errors ("mobile").
	block string
	// parsePlatform reads one platform the integration can check.
	parsePlatform func(string) (policy.Platform, error)

	integration policy.Integration
	enableSeen  bool
}

// line reads an enable or platforms line. It reports false for any other
// line, which the integration's own parser reads.
func (s *scope) line(d *caddyfile.Dispenser) (bool, error) {
	switch d.Val() {
	case "enable":
		return true, s.enable(d)
	case "platforms":
		return true, s.platforms(d)
	}
	return false, nil
}

// enable parses: enable disabled | all | groups <name...>
func (s *scope) enable(d *caddyfile.Dispenser) error {
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
	s.integration.State = state
	if state == policy.Groups {
		s.integration.Groups = args[1:]
	}
	return nil
}

// platforms parses: platforms <platform...>, each listed once.
func (s *scope) platforms(d *caddyfile.Dispenser) error {
	if len(s.integration.Platforms) > 0 {
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
		for _, seen := range s.integration.Platforms {
			if seen == p {
				return d.Errf("%s platforms: %q listed twice", s.block, a)
			}
		}
		s.integration.Platforms = append(s.integration.Platforms, p)
	}
	return nil
}
