package policy

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Level says how a requirement is enforced.
type Level string

// Levels. The empty Level turns a requirement off.
const (
	// Require makes a failed requirement leave the device untrusted.
	Require Level = "require"
	// Warn keeps the device trusted and tells the user to fix it; with a
	// deadline it becomes Require once the deadline has passed.
	Warn Level = "warn"
)

// ParseLevel parses "require" or "warn".
func ParseLevel(s string) (Level, error) {
	switch l := Level(s); l {
	case Require, Warn:
		return l, nil
	}
	return "", fmt.Errorf("unknown level %q (want require or warn)", truncate(s))
}

// Rule is the enforcement of one requirement.
type Rule struct {
	// Level is "require", "warn" or empty. Default: empty, the requirement
	// is not checked.
	Level Level `json:"level,omitempty"`
	// Until is the deadline of a warn rule: after this instant a failure
	// counts as require. At the instant itself it is still a warning. Only
	// allowed with level warn. Default: none, warn forever.
	Until time.Time `json:"until,omitzero"`
}

// enforced says whether r is checked at all and, if so, whether a failure
// at now leaves the device untrusted. A level other than require or warn
// (which Validate refuses) counts as require, so a broken configuration
// fails closed.
func (r Rule) enforced(now time.Time) (checked, required bool) {
	switch r.Level {
	case "":
		return false, false
	case Warn:
		return true, !r.Until.IsZero() && now.After(r.Until)
	}
	return true, true
}

// Validate reports a level other than require or warn, or a deadline on a
// rule that is not warn.
func (r Rule) Validate() error {
	switch r.Level {
	case "", Require, Warn:
	default:
		return fmt.Errorf("unknown level %q (want require or warn)", r.Level)
	}
	if !r.Until.IsZero() && r.Level != Warn {
		return errors.New("a deadline (until) is only allowed with level warn")
	}
	return nil
}

// MinOS requires a minimum operating system version per platform.
type MinOS struct {
	Rule
	// Versions maps a platform to its minimum version, e.g.
	// {"ios": "17.4", "android": "14"}. A platform without an entry has no
	// minimum. See Version for how suffixes order.
	Versions map[Platform]string `json:"versions,omitempty"`
}

// MinSecurityPatch requires a recent Android security patch level. It does
// not apply to iOS. When both fields are set, both must hold.
type MinSecurityPatch struct {
	Rule
	// Date is the oldest acceptable patch level, "YYYY-MM-DD" or "YYYY-MM"
	// (the first of the month).
	Date string `json:"date,omitempty"`
	// MaxAgeDays, when positive, requires a patch level no older than this
	// many days before the time of the check.
	MaxAgeDays int `json:"max_age_days,omitempty"`
}

// MinAppVersion requires a minimum version of the mobile app.
type MinAppVersion struct {
	Rule
	// Version is the oldest acceptable app version.
	Version string `json:"version,omitempty"`
}

// Unit is what an up-to-date distance counts.
type Unit string

// Units of OSUpToDate distance.
const (
	Major Unit = "major"
	Minor Unit = "minor"
)

// Latest names the newest release of a platform and how far behind it a
// device may be.
//
// With unit major, a device passes when its major version is at most Behind
// below the latest major: latest 18.2, behind 1 accepts every 17.x and 18.x
// and refuses 16.x.
//
// With unit minor, a device passes when it runs the latest major and its
// minor version is at most Behind below the latest minor: latest 18.2, behind
// 2 accepts 18.0 to 18.x and refuses 17.6. The previous major never passes a
// minor distance, since the number of minor releases it had is unknown; an
// admin who wants it names a major distance instead. Patch components and
// suffixes do not count for either unit, and a device newer than the latest
// always passes.
type Latest struct {
	// Version is the latest release the admin names, e.g. "18.2".
	Version string `json:"version"`
	// Behind is how many releases behind Version a device may be.
	// Default: 0, the latest major (or minor) only.
	Behind int `json:"behind,omitempty"`
	// Unit is "major" or "minor". Default: major.
	Unit Unit `json:"unit,omitempty"`
}

// OSUpToDate requires the OS to be within a distance of the latest release
// the admin names per platform. A platform without an entry is not checked.
type OSUpToDate struct {
	Rule
	// Latest maps a platform to its latest release and allowed distance.
	Latest map[Platform]Latest `json:"latest,omitempty"`
}

// Requirements are the device health rules a verifying device is held to.
// The zero Requirements checks nothing (but Evaluate still refuses an
// unsupported platform).
type Requirements struct {
	// ScreenLock requires a screen lock.
	ScreenLock Rule `json:"screen_lock,omitzero"`
	// Biometrics requires enrolled biometrics.
	Biometrics Rule `json:"biometrics,omitzero"`
	// DiskEncryption requires encrypted storage.
	DiskEncryption Rule `json:"disk_encryption,omitzero"`
	// NotTampered requires a device that is neither jailbroken nor rooted.
	NotTampered Rule `json:"not_tampered,omitzero"`
	// MinOS requires a minimum OS version per platform.
	MinOS MinOS `json:"min_os,omitzero"`
	// MinSecurityPatch requires a recent Android security patch.
	MinSecurityPatch MinSecurityPatch `json:"min_security_patch,omitzero"`
	// MinAppVersion requires a minimum mobile app version.
	MinAppVersion MinAppVersion `json:"min_app_version,omitzero"`
	// OSUpToDate requires the OS to be close to the latest release.
	OSUpToDate OSUpToDate `json:"os_up_to_date,omitzero"`
}

// Kind names a requirement, in configuration and in findings.
type Kind string

// Requirement kinds. KindPlatform is not configurable: it is the implicit
// requirement that the device runs a supported platform.
const (
	KindScreenLock       Kind = "screen_lock"
	KindBiometrics       Kind = "biometrics"
	KindDiskEncryption   Kind = "disk_encryption"
	KindNotTampered      Kind = "not_tampered"
	KindMinOS            Kind = "min_os"
	KindMinSecurityPatch Kind = "min_security_patch"
	KindMinAppVersion    Kind = "min_app_version"
	KindOSUpToDate       Kind = "os_up_to_date"
	KindPlatform         Kind = "platform"
)

// Validate reports every configuration error in r, each naming its
// requirement.
func (r Requirements) Validate() error {
	var errs []error
	check := func(k Kind, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	check(KindScreenLock, r.ScreenLock.Validate())
	check(KindBiometrics, r.Biometrics.Validate())
	check(KindDiskEncryption, r.DiskEncryption.Validate())
	check(KindNotTampered, r.NotTampered.Validate())
	check(KindMinOS, r.MinOS.validate())
	check(KindMinSecurityPatch, r.MinSecurityPatch.validate())
	check(KindMinAppVersion, r.MinAppVersion.validate())
	check(KindOSUpToDate, r.OSUpToDate.validate())
	return errors.Join(errs...)
}

func (m MinOS) validate() error {
	if err := m.Rule.Validate(); err != nil {
		return err
	}
	if m.Level != "" && len(m.Versions) == 0 {
		return errors.New("no platform has a minimum version")
	}
	for _, p := range sortedKeys(m.Versions) {
		if !p.Supported() {
			return fmt.Errorf("unknown platform %q (want ios or android)", p)
		}
		if _, err := ParseVersion(m.Versions[p]); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func (m MinSecurityPatch) validate() error {
	if err := m.Rule.Validate(); err != nil {
		return err
	}
	if m.MaxAgeDays < 0 {
		return fmt.Errorf("negative maximum age %d days", m.MaxAgeDays)
	}
	if m.Date != "" {
		if _, err := ParsePatchDate(m.Date); err != nil {
			return err
		}
	}
	if m.Level != "" && m.Date == "" && m.MaxAgeDays == 0 {
		return errors.New("neither a date nor a maximum age is set")
	}
	return nil
}

func (m MinAppVersion) validate() error {
	if err := m.Rule.Validate(); err != nil {
		return err
	}
	if m.Level == "" && m.Version == "" {
		return nil
	}
	if _, err := ParseVersion(m.Version); err != nil {
		return err
	}
	return nil
}

func (u OSUpToDate) validate() error {
	if err := u.Rule.Validate(); err != nil {
		return err
	}
	if u.Level != "" && len(u.Latest) == 0 {
		return errors.New("no platform has a latest version")
	}
	for _, p := range sortedKeys(u.Latest) {
		if !p.Supported() {
			return fmt.Errorf("unknown platform %q (want ios or android)", p)
		}
		if err := u.Latest[p].validate(); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

func (l Latest) validate() error {
	if _, err := ParseVersion(l.Version); err != nil {
		return fmt.Errorf("latest %w", err)
	}
	if l.Behind < 0 {
		return fmt.Errorf("negative distance %d", l.Behind)
	}
	switch l.Unit {
	case "", Major, Minor:
	default:
		return fmt.Errorf("unknown unit %q (want major or minor)", l.Unit)
	}
	return nil
}

// unit returns the effective unit, major when unset.
func (l Latest) unit() Unit {
	if l.Unit == "" {
		return Major
	}
	return l.Unit
}

func sortedKeys[V any](m map[Platform]V) []Platform {
	keys := make([]Platform, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
