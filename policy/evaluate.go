package policy

import (
	"fmt"
	"time"
)

// Finding is one requirement a device did not meet.
type Finding struct {
	// Requirement is the requirement that was not met.
	Requirement Kind `json:"requirement"`
	// Reason is the auth-log code for why.
	Reason Reason `json:"reason"`
	// Hint tells the user how to fix it, for the denial page and the app.
	// It never contains text the device reported.
	Hint string `json:"hint"`
	// Deadline is, for a warn requirement with a deadline, the instant after
	// which it is enforced as require.
	Deadline time.Time `json:"deadline,omitzero"`
}

// Verdict is the result of evaluating a device's facts.
type Verdict struct {
	// Trusted is whether the device met every enforced requirement.
	Trusted bool `json:"trusted"`
	// Failed are the enforced requirements the device did not meet.
	Failed []Finding `json:"failed,omitempty"`
	// Warnings are the warn requirements the device did not meet; they do
	// not affect Trusted.
	Warnings []Finding `json:"warnings,omitempty"`
}

// Status returns the trust status of the verdict, Trusted or NotTrusted.
func (v Verdict) Status() Status {
	if v.Trusted {
		return Trusted
	}
	return NotTrusted
}

// Reasons returns the reason codes of the failed requirements, in order.
func (v Verdict) Reasons() []Reason {
	return reasonsOf(v.Failed)
}

func reasonsOf(fs []Finding) []Reason {
	if len(fs) == 0 {
		return nil
	}
	rs := make([]Reason, len(fs))
	for i, f := range fs {
		rs[i] = f.Reason
	}
	return rs
}

// Evaluate holds facts to the requirements at instant now. A device on a
// platform other than ios or android is never trusted. A requirement whose
// fact is missing or unreadable fails with ReasonInvalidFacts; one whose own
// configuration is broken fails with ReasonInvalidPolicy. A warn requirement
// goes to Warnings until its deadline has passed and to Failed after it.
// Findings come in a fixed order: platform, then the requirements in the
// order of the Requirements fields.
func Evaluate(req Requirements, facts Facts, now time.Time) Verdict {
	var v Verdict
	platform := normalizePlatform(facts.Platform)
	if !platform.Supported() {
		v.Failed = append(v.Failed, Finding{
			Requirement: KindPlatform,
			Reason:      ReasonUnsupportedPlatform,
			Hint:        "Open this page on an iPhone, iPad or Android device with the trustgate app installed.",
		})
	}
	checks := []struct {
		kind  Kind
		rule  Rule
		check func() (Reason, string)
	}{
		{KindScreenLock, req.ScreenLock, func() (Reason, string) {
			return checkFlag(facts.ScreenLock, true, ReasonNoScreenLock,
				"Turn on a screen lock (passcode, PIN, pattern or password) in Settings.")
		}},
		{KindBiometrics, req.Biometrics, func() (Reason, string) {
			return checkFlag(facts.Biometrics, true, ReasonNoBiometrics,
				"Set up Face ID, Touch ID or fingerprint unlock in Settings.")
		}},
		{KindDiskEncryption, req.DiskEncryption, func() (Reason, string) {
			return checkFlag(facts.DiskEncryption, true, ReasonNoDiskEncryption,
				"Turn on device encryption in Settings.")
		}},
		{KindNotTampered, req.NotTampered, func() (Reason, string) {
			return checkFlag(facts.Tampered, false, ReasonRootedDevice,
				"This device is jailbroken or rooted. Use a device that runs its manufacturer's software.")
		}},
		{KindMinOS, req.MinOS.Rule, func() (Reason, string) {
			return checkMinOS(req.MinOS, platform, facts.OSVersion)
		}},
		{KindMinSecurityPatch, req.MinSecurityPatch.Rule, func() (Reason, string) {
			return checkSecurityPatch(req.MinSecurityPatch, platform, facts.SecurityPatch, now)
		}},
		{KindMinAppVersion, req.MinAppVersion.Rule, func() (Reason, string) {
			return checkAppVersion(req.MinAppVersion, facts.AppVersion)
		}},
		{KindOSUpToDate, req.OSUpToDate.Rule, func() (Reason, string) {
			return checkUpToDate(req.OSUpToDate, platform, facts.OSVersion)
		}},
	}
	for _, c := range checks {
		checked, required := c.rule.enforced(now)
		if !checked {
			continue
		}
		reason, hint := c.check()
		if reason == "" {
			continue
		}
		f := Finding{Requirement: c.kind, Reason: reason, Hint: hint}
		if c.rule.Level == Warn {
			f.Deadline = c.rule.Until
		}
		if required {
			v.Failed = append(v.Failed, f)
		} else {
			v.Warnings = append(v.Warnings, f)
		}
	}
	v.Trusted = len(v.Failed) == 0
	return v
}

// Fix hints for findings that do not depend on the requirement.
const (
	hintInvalidFacts  = "Your device sent health information that could not be read. Update the trustgate app and try again."
	hintInvalidPolicy = "This application's device policy is misconfigured. Contact your administrator."
)

// checkFlag fails when the device did not report the fact or reported
// something other than want.
func checkFlag(got *bool, want bool, reason Reason, hint string) (Reason, string) {
	switch {
	case got == nil:
		return ReasonInvalidFacts, hintInvalidFacts
	case *got != want:
		return reason, hint
	}
	return "", ""
}

func checkMinOS(m MinOS, platform Platform, osVersion string) (Reason, string) {
	minimum, ok := m.Versions[platform]
	if !ok || !platform.Supported() {
		return "", ""
	}
	min, err := ParseVersion(minimum)
	if err != nil {
		return ReasonInvalidPolicy, hintInvalidPolicy
	}
	got, err := ParseVersion(osVersion)
	if err != nil {
		return ReasonInvalidFacts, hintInvalidFacts
	}
	if !got.AtLeast(min) {
		return ReasonVersionRestricted, fmt.Sprintf("Update %s to %s or later.", platform.displayName(), min)
	}
	return "", ""
}

func checkSecurityPatch(m MinSecurityPatch, platform Platform, patch string, now time.Time) (Reason, string) {
	if platform != Android {
		return "", ""
	}
	if m.MaxAgeDays < 0 || m.Date == "" && m.MaxAgeDays == 0 {
		return ReasonInvalidPolicy, hintInvalidPolicy
	}
	// oldest is the latest of the configured bounds.
	var oldest time.Time
	if m.Date != "" {
		d, err := ParsePatchDate(m.Date)
		if err != nil {
			return ReasonInvalidPolicy, hintInvalidPolicy
		}
		oldest = d
	}
	if m.MaxAgeDays > 0 {
		d := now.UTC().AddDate(0, 0, -m.MaxAgeDays)
		d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		if d.After(oldest) {
			oldest = d
		}
	}
	got, err := ParsePatchDate(patch)
	if err != nil {
		return ReasonInvalidFacts, hintInvalidFacts
	}
	if got.Before(oldest) {
		return ReasonSecurityPatchOutOfDate, fmt.Sprintf(
			"Install the latest Android security update (patch level %s or later) in Settings.", oldest.Format(time.DateOnly))
	}
	return "", ""
}

func checkAppVersion(m MinAppVersion, appVersion string) (Reason, string) {
	min, err := ParseVersion(m.Version)
	if err != nil {
		return ReasonInvalidPolicy, hintInvalidPolicy
	}
	got, err := ParseVersion(appVersion)
	if err != nil {
		return ReasonInvalidFacts, hintInvalidFacts
	}
	if !got.AtLeast(min) {
		return ReasonAppVersionRestricted, fmt.Sprintf("Update the trustgate app to %s or later.", min)
	}
	return "", ""
}

func checkUpToDate(u OSUpToDate, platform Platform, osVersion string) (Reason, string) {
	latest, ok := u.Latest[platform]
	if !ok || !platform.Supported() {
		return "", ""
	}
	if latest.validate() != nil {
		return ReasonInvalidPolicy, hintInvalidPolicy
	}
	want := MustParseVersion(latest.Version) // validated above
	got, err := ParseVersion(osVersion)
	if err != nil {
		return ReasonInvalidFacts, hintInvalidFacts
	}
	behind := uint64(latest.Behind)
	var upToDate bool
	switch latest.unit() {
	case Major:
		upToDate = uint64(got.Major())+behind >= uint64(want.Major())
	case Minor:
		upToDate = got.Major() > want.Major() ||
			got.Major() == want.Major() && uint64(got.Minor())+behind >= uint64(want.Minor())
	}
	if !upToDate {
		return ReasonOutOfDate, fmt.Sprintf("Update %s to the latest version (%s).", platform.displayName(), want)
	}
	return "", ""
}
