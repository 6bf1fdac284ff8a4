package policy

import (
	"errors"
	"fmt"
	"slices"
)

// Platforms a managed device may be on beside the mobile ones: the
// desktops the mobile app cannot vouch for.
const (
	Windows Platform = "windows"
	MacOS   Platform = "macos"
	Linux   Platform = "linux"
)

// Manageable reports whether p is a platform an inventory of managed
// devices may name: windows, macos, linux, ios or android.
func (p Platform) Manageable() bool {
	switch p {
	case Windows, MacOS, Linux, IOS, Android:
		return true
	}
	return false
}

// ParseManagedPlatform parses a platform a managed device may be on
// (windows, macos, linux, ios or android), ignoring case and surrounding
// spaces.
func ParseManagedPlatform(s string) (Platform, error) {
	p := normalizePlatform(Platform(s))
	if !p.Manageable() {
		return "", fmt.Errorf("unknown platform %q (want windows, macos, linux, ios or android)", truncate(s))
	}
	return p, nil
}

// Match names the identifier of a device certificate that is looked up in
// the inventory of managed devices.
type Match string

// Identifiers a managed device's certificate is matched by.
const (
	// MatchFingerprint: the SHA-256 of the whole certificate (the
	// default): the strictest, but a renewed certificate needs a new
	// inventory entry.
	MatchFingerprint Match = "fingerprint"
	// MatchSerial: the certificate's serial number, unique per issuing CA.
	MatchSerial Match = "serial"
	// MatchSANURI: a URI in the certificate's subject alternative names;
	// any of them may match.
	MatchSANURI Match = "san_uri"
	// MatchHardwareSerial: the subject's serialNumber attribute, where
	// management systems put the device's hardware serial.
	MatchHardwareSerial Match = "hardware_serial"
)

// ParseMatch parses fingerprint, serial, san_uri or hardware_serial.
func ParseMatch(s string) (Match, error) {
	switch m := Match(s); m {
	case MatchFingerprint, MatchSerial, MatchSANURI, MatchHardwareSerial:
		return m, nil
	}
	return "", fmt.Errorf("unknown match %q (want fingerprint, serial, san_uri or hardware_serial)", truncate(s))
}

// Managed says to whom and on which platforms a managed device (one whose
// verified client certificate is in the inventory) vouches for the access
// device. Where the mobile check applies to a person on iOS or Android, the
// mobile app decides and Managed is not consulted for that platform.
type Managed struct {
	// State is "disabled", "groups" or "all". Default: disabled.
	State State `json:"state,omitempty"`
	// Groups are the groups a user must be in (any one of them) when State
	// is groups.
	Groups []string `json:"groups,omitempty"`
	// Platforms are the enabled platforms. Default: windows, macos and
	// linux.
	Platforms []Platform `json:"platforms,omitempty"`
	// Match is the certificate identifier looked up in the inventory.
	// Default: fingerprint.
	Match Match `json:"match,omitempty"`
}

// Applies reports whether a managed device may vouch for a user in
// userGroups on platform p, before the mobile default is considered (see
// Policy.Decider).
func (m Managed) Applies(userGroups []string, p Platform) bool {
	return slices.Contains(m.platforms(), p) && stateApplies(m.State, m.Groups, userGroups)
}

// InScope reports whether a managed device may vouch for a user in
// userGroups on any enabled platform.
func (m Managed) InScope(userGroups []string) bool {
	return stateApplies(m.State, m.Groups, userGroups)
}

// MatchBy returns the identifier to match, with the default applied.
func (m Managed) MatchBy() Match {
	if m.Match == "" {
		return MatchFingerprint
	}
	return m.Match
}

// platforms returns the enabled platforms, sorted, without duplicates, with
// the default applied.
func (m Managed) platforms() []Platform {
	if len(m.Platforms) == 0 {
		return []Platform{Linux, MacOS, Windows}
	}
	ps := slices.Clone(m.Platforms)
	slices.Sort(ps)
	return slices.Compact(ps)
}

// Validate reports an unknown state, platform or match, and a groups
// state without groups.
func (m Managed) Validate() error {
	if err := validateState(m.State, m.Groups); err != nil {
		return err
	}
	for _, p := range m.Platforms {
		if !p.Manageable() {
			return fmt.Errorf("unknown platform %q (want windows, macos, linux, ios or android)", p)
		}
	}
	if m.Match != "" {
		if _, err := ParseMatch(string(m.Match)); err != nil {
			return err
		}
	}
	return nil
}

// Decider names the integration that decides whether an access device is
// trusted.
type Decider string

// Deciders.
const (
	// DecidedByNone: no integration applies; the device cannot be
	// checked (unsupported_platform).
	DecidedByNone Decider = ""
	// DecidedByMobile: the mobile app checks the phone.
	DecidedByMobile Decider = "mobile"
	// DecidedByManaged: a managed device's certificate vouches for it.
	DecidedByManaged Decider = "managed"
)

// Decider returns which integration decides for a user in userGroups on
// an access device of platform p: the mobile app where it applies (on iOS
// and Android it is the default, and Managed is then not consulted for that
// platform), else a managed device where Managed applies, else none.
func (p Policy) Decider(userGroups []string, platform Platform) Decider {
	switch {
	case p.Integration.Applies(userGroups, platform):
		return DecidedByMobile
	case p.Managed.Applies(userGroups, platform):
		return DecidedByManaged
	}
	return DecidedByNone
}

// stateApplies reports whether an integration in state, limited to groups
// when state is Groups, is on for a user in userGroups.
func stateApplies(state State, groups, userGroups []string) bool {
	switch state {
	case All:
		return true
	case Groups:
		for _, g := range userGroups {
			if slices.Contains(groups, g) {
				return true
			}
		}
	}
	return false
}

// validateState reports an unknown state, a groups state without groups
// and an empty group name.
func validateState(state State, groups []string) error {
	switch state {
	case "", Disabled, All:
	case Groups:
		if len(groups) == 0 {
			return errors.New("integration state groups names no groups")
		}
	default:
		return fmt.Errorf("unknown integration state %q (want disabled, groups or all)", state)
	}
	for _, g := range groups {
		if g == "" {
			return errors.New("empty group name")
		}
	}
	return nil
}
