package policy

import (
	"fmt"
	"slices"
)

// State is whether the mobile integration is on, and for whom.
type State string

// Integration states.
const (
	// Disabled turns the mobile check off for everyone.
	Disabled State = "disabled"
	// Groups turns it on for members of the named groups only: a staged
	// rollout.
	Groups State = "groups"
	// All turns it on for every user.
	All State = "all"
)

// ParseState parses "disabled", "groups" or "all".
func ParseState(s string) (State, error) {
	switch st := State(s); st {
	case Disabled, Groups, All:
		return st, nil
	}
	return "", fmt.Errorf("unknown integration state %q (want disabled, groups or all)", truncate(s))
}

// Integration says to whom and on which platforms the mobile device check
// applies.
type Integration struct {
	// State is "disabled", "groups" or "all". Default: disabled.
	State State `json:"state,omitempty"`
	// Groups are the groups a user must be in (any one of them) when State
	// is groups. Group names match exactly, case included.
	Groups []string `json:"groups,omitempty"`
	// Platforms are the enabled platforms. Default: ios and android.
	Platforms []Platform `json:"platforms,omitempty"`
}

// InScope reports whether the mobile check applies to a user in
// userGroups on any platform the app runs on.
func (i Integration) InScope(userGroups []string) bool {
	return i.Applies(userGroups, IOS) || i.Applies(userGroups, Android)
}

// Applies reports whether the mobile check applies to a user in
// userGroups on platform p: the integration is on for the user (all users,
// or a user in one of its groups) and p is an enabled platform.
func (i Integration) Applies(userGroups []string, p Platform) bool {
	return i.PlatformEnabled(p) && stateApplies(i.State, i.Groups, userGroups)
}

// PlatformEnabled reports whether p is an enabled platform. It does not look
// at the state.
func (i Integration) PlatformEnabled(p Platform) bool {
	return p.Supported() && slices.Contains(i.platforms(), p)
}

// platforms returns the enabled platforms, sorted, without duplicates, with
// the default applied.
func (i Integration) platforms() []Platform {
	if len(i.Platforms) == 0 {
		return []Platform{Android, IOS}
	}
	ps := slices.Clone(i.Platforms)
	slices.Sort(ps)
	return slices.Compact(ps)
}

// Validate reports an unknown state or platform, and a groups state
// without groups.
func (i Integration) Validate() error {
	if err := validateState(i.State, i.Groups); err != nil {
		return err
	}
	for _, p := range i.Platforms {
		if !p.Supported() {
			return fmt.Errorf("unknown platform %q (want ios or android)", p)
		}
	}
	return nil
}
