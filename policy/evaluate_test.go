package policy_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func ptr(b bool) *bool { return &b }

// everything returns requirements of every kind at rule, all of which
// healthy facts meet.
func everything(rule policy.Rule) policy.Requirements {
	return policy.Requirements{
		ScreenLock:     rule,
		Biometrics:     rule,
		DiskEncryption: rule,
		NotTampered:    rule,
		MinOS: policy.MinOS{Rule: rule, Versions: map[policy.Platform]string{
			policy.IOS: "17.4", policy.Android: "14",
		}},
		MinSecurityPatch: policy.MinSecurityPatch{Rule: rule, Date: "2026-10-05", MaxAgeDays: 90},
		MinAppVersion:    policy.MinAppVersion{Rule: rule, Version: "2.3"},
		OSUpToDate: policy.OSUpToDate{Rule: rule, Latest: map[policy.Platform]policy.Latest{
			policy.IOS: {Version: "18.2", Behind: 1, Unit: policy.Major},
			// The android window (16.1 and later) starts above the android
			// minimum, so a device can fail it alone; the iOS window (17
			// and later) ends below the iOS minimum, so a device can fail
			// the minimum alone.
			policy.Android: {Version: "16.2", Behind: 1, Unit: policy.Minor},
		}},
	}
}

func healthy(p policy.Platform) policy.Facts {
	f := policy.Facts{
		Platform:       p,
		OSVersion:      "18.1",
		ScreenLock:     ptr(true),
		Biometrics:     ptr(true),
		DiskEncryption: ptr(true),
		Tampered:       ptr(false),
		AppVersion:     "2.3.0",
		Model:          "iPhone16,2",
	}
	if p == policy.Android {
		f.OSVersion = "16.1"
		f.SecurityPatch = "2026-11-01"
		f.Model = "Pixel 9"
	}
	return f
}

func TestEvaluateTrustsHealthyDevice(t *testing.T) {
	for _, p := range []policy.Platform{policy.IOS, policy.Android} {
		for _, level := range []policy.Level{policy.Require, policy.Warn} {
			v := policy.Evaluate(everything(policy.Rule{Level: level}), healthy(p), now)
			if !v.Trusted || len(v.Failed) != 0 || len(v.Warnings) != 0 {
				t.Errorf("%s, all %s: got %+v, want trusted without findings", p, level, v)
			}
			if v.Status() != policy.Trusted {
				t.Errorf("Status() = %q, want %q", v.Status(), policy.Trusted)
			}
		}
	}
}

// unhealthy lists, per requirement kind, a device that fails exactly that
// requirement of everything().
var unhealthy = []struct {
	name   string
	facts  func() policy.Facts
	kind   policy.Kind
	reason policy.Reason
	hint   string
}{
	{"no screen lock", func() policy.Facts { f := healthy(policy.IOS); f.ScreenLock = ptr(false); return f },
		policy.KindScreenLock, policy.ReasonNoScreenLock, "Turn on a screen lock"},
	{"no biometrics", func() policy.Facts { f := healthy(policy.Android); f.Biometrics = ptr(false); return f },
		policy.KindBiometrics, policy.ReasonNoBiometrics, "fingerprint"},
	{"no disk encryption", func() policy.Facts { f := healthy(policy.Android); f.DiskEncryption = ptr(false); return f },
		policy.KindDiskEncryption, policy.ReasonNoDiskEncryption, "encryption"},
	{"jailbroken iphone", func() policy.Facts { f := healthy(policy.IOS); f.Tampered = ptr(true); return f },
		policy.KindNotTampered, policy.ReasonRootedDevice, "jailbroken or rooted"},
	{"rooted android", func() policy.Facts { f := healthy(policy.Android); f.Tampered = ptr(true); return f },
		policy.KindNotTampered, policy.ReasonRootedDevice, "jailbroken or rooted"},
	{"ios below minimum", func() policy.Facts { f := healthy(policy.IOS); f.OSVersion = "17.3.1"; return f },
		policy.KindMinOS, policy.ReasonVersionRestricted, "Update iOS to 17.4 or later."},
	{"patch before date", func() policy.Facts { f := healthy(policy.Android); f.SecurityPatch = "2026-10-01"; return f },
		policy.KindMinSecurityPatch, policy.ReasonSecurityPatchOutOfDate, "2026-10-05 or later"},
	{"month-only patch before date", func() policy.Facts { f := healthy(policy.Android); f.SecurityPatch = "2026-10"; return f },
		policy.KindMinSecurityPatch, policy.ReasonSecurityPatchOutOfDate, "security update"},
	{"app below minimum", func() policy.Facts { f := healthy(policy.IOS); f.AppVersion = "2.2.9"; return f },
		policy.KindMinAppVersion, policy.ReasonAppVersionRestricted, "Update the trustgate app to 2.3 or later."},
	{"android too far behind latest", func() policy.Facts { f := healthy(policy.Android); f.OSVersion = "15"; return f },
		policy.KindOSUpToDate, policy.ReasonOutOfDate, "Update Android to the latest version (16.2)."},
}

func TestEvaluateFailsEachRequirementWhenRequired(t *testing.T) {
	for _, tt := range unhealthy {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), tt.facts(), now)
			if v.Trusted || v.Status() != policy.NotTrusted {
				t.Errorf("Trusted = %v, Status = %q, want not trusted", v.Trusted, v.Status())
			}
			if len(v.Warnings) != 0 {
				t.Errorf("Warnings = %+v, want none", v.Warnings)
			}
			assertOneFinding(t, v.Failed, tt.kind, tt.reason, tt.hint)
			if !v.Failed[0].Deadline.IsZero() {
				t.Errorf("Deadline = %v on a require finding", v.Failed[0].Deadline)
			}
			if got := v.Reasons(); !slices.Equal(got, []policy.Reason{tt.reason}) {
				t.Errorf("Reasons() = %v, want [%s]", got, tt.reason)
			}
		})
	}
}

func TestEvaluateWarnsForEachRequirementWhenWarn(t *testing.T) {
	deadline := now.Add(24 * time.Hour)
	for _, tt := range unhealthy {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.Evaluate(everything(policy.Rule{Level: policy.Warn, Until: deadline}), tt.facts(), now)
			if !v.Trusted || len(v.Failed) != 0 {
				t.Errorf("got Trusted = %v, Failed = %+v, want trusted", v.Trusted, v.Failed)
			}
			assertOneFinding(t, v.Warnings, tt.kind, tt.reason, tt.hint)
			if !v.Warnings[0].Deadline.Equal(deadline) {
				t.Errorf("Deadline = %v, want %v", v.Warnings[0].Deadline, deadline)
			}
		})
	}
}

func TestEvaluateIgnoresRequirementsThatAreOff(t *testing.T) {
	for _, tt := range unhealthy {
		v := policy.Evaluate(everything(policy.Rule{}), tt.facts(), now)
		if !v.Trusted || len(v.Failed)+len(v.Warnings) != 0 {
			t.Errorf("%s: got %+v, want trusted without findings", tt.name, v)
		}
	}
}

func assertOneFinding(t *testing.T, fs []policy.Finding, kind policy.Kind, reason policy.Reason, hint string) {
	t.Helper()
	if len(fs) != 1 {
		t.Fatalf("findings = %+v, want exactly one", fs)
	}
	f := fs[0]
	if f.Requirement != kind || f.Reason != reason {
		t.Errorf("finding = %s/%s, want %s/%s", f.Requirement, f.Reason, kind, reason)
	}
	if !strings.Contains(f.Hint, hint) {
		t.Errorf("hint = %q, want it to contain %q", f.Hint, hint)
	}
}

func TestWarnBecomesRequireAfterDeadline(t *testing.T) {
	deadline := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	req := policy.Requirements{ScreenLock: policy.Rule{Level: policy.Warn, Until: deadline}}
	facts := healthy(policy.IOS)
	facts.ScreenLock = ptr(false)
	tests := []struct {
		name    string
		now     time.Time
		trusted bool
	}{
		{"long before", deadline.AddDate(0, -2, 0), true},
		{"just before", deadline.Add(-time.Nanosecond), true},
		{"at the deadline", deadline, true},
		{"at the deadline in another zone", deadline.In(time.FixedZone("UTC+5", 5*3600)), true},
		{"just after", deadline.Add(time.Nanosecond), false},
		{"long after", deadline.AddDate(1, 0, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.Evaluate(req, facts, tt.now)
			if v.Trusted != tt.trusted {
				t.Fatalf("Trusted = %v, want %v", v.Trusted, tt.trusted)
			}
			findings := v.Warnings
			if !tt.trusted {
				findings = v.Failed
			}
			assertOneFinding(t, findings, policy.KindScreenLock, policy.ReasonNoScreenLock, "screen lock")
			if !findings[0].Deadline.Equal(deadline) {
				t.Errorf("Deadline = %v, want %v", findings[0].Deadline, deadline)
			}
		})
	}
}

func TestWarnWithoutDeadlineNeverBlocks(t *testing.T) {
	req := policy.Requirements{NotTampered: policy.Rule{Level: policy.Warn}}
	facts := healthy(policy.Android)
	facts.Tampered = ptr(true)
	v := policy.Evaluate(req, facts, now.AddDate(100, 0, 0))
	if !v.Trusted {
		t.Fatalf("got %+v, want trusted", v)
	}
	assertOneFinding(t, v.Warnings, policy.KindNotTampered, policy.ReasonRootedDevice, "rooted")
	if !v.Warnings[0].Deadline.IsZero() {
		t.Errorf("Deadline = %v, want none", v.Warnings[0].Deadline)
	}
}

func TestEvaluateRefusesUnsupportedPlatform(t *testing.T) {
	for _, p := range []policy.Platform{"", "windows", "macos", "linux", "ios2", "<script>"} {
		t.Run(string(p), func(t *testing.T) {
			facts := healthy(policy.IOS)
			facts.Platform = p
			// Even with no requirements at all, an unsupported platform is
			// not trusted.
			for _, req := range []policy.Requirements{{}, everything(policy.Rule{Level: policy.Warn})} {
				v := policy.Evaluate(req, facts, now)
				if v.Trusted {
					t.Fatalf("got trusted, want not trusted")
				}
				if len(v.Failed) != 1 || v.Failed[0].Requirement != policy.KindPlatform ||
					v.Failed[0].Reason != policy.ReasonUnsupportedPlatform {
					t.Errorf("Failed = %+v, want one unsupported_platform", v.Failed)
				}
			}
		})
	}
}

func TestEvaluateNormalizesPlatformCase(t *testing.T) {
	facts := healthy(policy.IOS)
	facts.Platform = " iOS "
	facts.OSVersion = "17.0"
	v := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), facts, now)
	if v.Trusted || len(v.Failed) != 1 || v.Failed[0].Reason != policy.ReasonVersionRestricted {
		t.Errorf("got %+v, want the iOS minimum applied", v)
	}
}

func TestEvaluateFailsRequirementOnUnreadableFacts(t *testing.T) {
	tests := []struct {
		name  string
		facts func() policy.Facts
		kinds []policy.Kind
	}{
		{"missing os version", func() policy.Facts { f := healthy(policy.IOS); f.OSVersion = ""; return f },
			[]policy.Kind{policy.KindMinOS, policy.KindOSUpToDate}},
		{"garbage os version", func() policy.Facts { f := healthy(policy.Android); f.OSVersion = "UpsideDownCake"; return f },
			[]policy.Kind{policy.KindMinOS, policy.KindOSUpToDate}},
		{"overflowing os version", func() policy.Facts { f := healthy(policy.IOS); f.OSVersion = "99999999999"; return f },
			[]policy.Kind{policy.KindMinOS, policy.KindOSUpToDate}},
		{"huge os version", func() policy.Facts {
			f := healthy(policy.IOS)
			f.OSVersion = "18." + strings.Repeat("9", 1000)
			return f
		}, []policy.Kind{policy.KindMinOS, policy.KindOSUpToDate}},
		{"missing patch", func() policy.Facts { f := healthy(policy.Android); f.SecurityPatch = ""; return f },
			[]policy.Kind{policy.KindMinSecurityPatch}},
		{"garbage patch", func() policy.Facts { f := healthy(policy.Android); f.SecurityPatch = "2026-13-45"; return f },
			[]policy.Kind{policy.KindMinSecurityPatch}},
		{"garbage app version", func() policy.Facts { f := healthy(policy.IOS); f.AppVersion = "latest"; return f },
			[]policy.Kind{policy.KindMinAppVersion}},
		{"unreported screen lock", func() policy.Facts { f := healthy(policy.IOS); f.ScreenLock = nil; return f },
			[]policy.Kind{policy.KindScreenLock}},
		{"unreported biometrics", func() policy.Facts { f := healthy(policy.IOS); f.Biometrics = nil; return f },
			[]policy.Kind{policy.KindBiometrics}},
		{"unreported disk encryption", func() policy.Facts { f := healthy(policy.IOS); f.DiskEncryption = nil; return f },
			[]policy.Kind{policy.KindDiskEncryption}},
		{"unreported tampering", func() policy.Facts { f := healthy(policy.Android); f.Tampered = nil; return f },
			[]policy.Kind{policy.KindNotTampered}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), tt.facts(), now)
			if v.Trusted {
				t.Fatal("got trusted, want not trusted")
			}
			var kinds []policy.Kind
			for _, f := range v.Failed {
				if f.Reason != policy.ReasonInvalidFacts {
					t.Errorf("finding %s has reason %s, want %s", f.Requirement, f.Reason, policy.ReasonInvalidFacts)
				}
				if !strings.Contains(f.Hint, "could not be read") {
					t.Errorf("hint = %q", f.Hint)
				}
				kinds = append(kinds, f.Requirement)
			}
			if !slices.Equal(kinds, tt.kinds) {
				t.Errorf("failed requirements = %v, want %v", kinds, tt.kinds)
			}
		})
	}
}

func TestEvaluateFailsClosedOnBrokenRequirement(t *testing.T) {
	tests := []struct {
		name string
		req  policy.Requirements
		kind policy.Kind
	}{
		{"garbage minimum os", policy.Requirements{MinOS: policy.MinOS{Rule: policy.Rule{Level: policy.Require},
			Versions: map[policy.Platform]string{policy.IOS: "seventeen"}}}, policy.KindMinOS},
		{"garbage minimum app", policy.Requirements{MinAppVersion: policy.MinAppVersion{Rule: policy.Rule{Level: policy.Require}}},
			policy.KindMinAppVersion},
		{"garbage latest", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: policy.Rule{Level: policy.Require},
			Latest: map[policy.Platform]policy.Latest{policy.IOS: {Version: "latest"}}}}, policy.KindOSUpToDate},
		{"negative distance", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: policy.Rule{Level: policy.Require},
			Latest: map[policy.Platform]policy.Latest{policy.IOS: {Version: "18", Behind: -1}}}}, policy.KindOSUpToDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := policy.Evaluate(tt.req, healthy(policy.IOS), now)
			if v.Trusted {
				t.Fatal("got trusted, want not trusted")
			}
			if len(v.Failed) != 1 || v.Failed[0].Requirement != tt.kind || v.Failed[0].Reason != policy.ReasonInvalidPolicy {
				t.Errorf("Failed = %+v, want one %s/invalid_policy", v.Failed, tt.kind)
			}
		})
	}
	// A broken security patch rule only matters on Android.
	req := policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: policy.Rule{Level: policy.Require}, Date: "soon"}}
	if v := policy.Evaluate(req, healthy(policy.Android), now); v.Trusted || v.Failed[0].Reason != policy.ReasonInvalidPolicy {
		t.Errorf("broken patch rule on android: got %+v, want invalid_policy", v)
	}
}

func TestEvaluateTreatsUnknownLevelAsRequire(t *testing.T) {
	facts := healthy(policy.IOS)
	facts.ScreenLock = ptr(false)
	v := policy.Evaluate(policy.Requirements{ScreenLock: policy.Rule{Level: "Warn"}}, facts, now)
	if v.Trusted {
		t.Errorf("level %q: got trusted, want the failure enforced", "Warn")
	}
}

func TestEvaluateMinOSBoundaries(t *testing.T) {
	tests := []struct {
		platform policy.Platform
		min, got string
		pass     bool
	}{
		{policy.IOS, "17.4", "17.4", true},
		{policy.IOS, "17.4", "17.4.0", true},
		{policy.IOS, "17.4", "17.4.1", true},
		{policy.IOS, "17.4.1", "17.4", false},
		{policy.IOS, "17.4", "17.10", true},
		{policy.IOS, "17.4", "v17.4", true},
		{policy.IOS, "17.4", " 17.4 ", true},
		{policy.Android, "14", "14", true},
		{policy.Android, "13", "13.0.0_r1", true},     // vendor build meets the bare minimum
		{policy.Android, "14.1", "14.1-beta2", false}, // a beta does not meet its release
		{policy.Android, "14", "14.1-beta2", true},
		{policy.Android, "14", "13.9.9", false},
	}
	for _, tt := range tests {
		req := policy.Requirements{MinOS: policy.MinOS{Rule: policy.Rule{Level: policy.Require},
			Versions: map[policy.Platform]string{tt.platform: tt.min}}}
		facts := healthy(tt.platform)
		facts.OSVersion = tt.got
		if v := policy.Evaluate(req, facts, now); v.Trusted != tt.pass {
			t.Errorf("%s minimum %q, device %q: trusted = %v, want %v (%+v)", tt.platform, tt.min, tt.got, v.Trusted, tt.pass, v.Failed)
		}
	}
}

func TestEvaluateMinOSSkipsPlatformWithoutMinimum(t *testing.T) {
	req := policy.Requirements{MinOS: policy.MinOS{Rule: policy.Rule{Level: policy.Require},
		Versions: map[policy.Platform]string{policy.IOS: "17.4"}}}
	facts := healthy(policy.Android)
	facts.OSVersion = "9"
	if v := policy.Evaluate(req, facts, now); !v.Trusted {
		t.Errorf("got %+v, want trusted: android has no minimum", v)
	}
}

func TestEvaluateSecurityPatchOnlyAppliesToAndroid(t *testing.T) {
	req := policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: policy.Rule{Level: policy.Require}, Date: "2026-10-05"}}
	facts := healthy(policy.IOS)
	facts.SecurityPatch = ""
	if v := policy.Evaluate(req, facts, now); !v.Trusted {
		t.Errorf("got %+v, want trusted: iOS has no security patch level", v)
	}
}

func TestEvaluateSecurityPatchBounds(t *testing.T) {
	tests := []struct {
		name       string
		date       string
		maxAgeDays int
		patch      string
		pass       bool
	}{
		{"on the date", "2026-10-05", 0, "2026-10-05", true},
		{"day before the date", "2026-10-05", 0, "2026-10-04", false},
		{"month-only minimum is the first", "2026-10", 0, "2026-10-01", true},
		{"month-only patch is the first", "2026-10-05", 0, "2026-10", false},
		{"within max age", "", 30, "2026-10-28", true}, // now is 2026-11-27: 30 days back is 2026-10-28
		{"beyond max age", "", 30, "2026-10-27", false},
		{"age binds over an older date", "2026-01-01", 30, "2026-10-01", false},
		{"date binds over a looser age", "2026-11-20", 365, "2026-11-01", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{
				Rule: policy.Rule{Level: policy.Require}, Date: tt.date, MaxAgeDays: tt.maxAgeDays}}
			facts := healthy(policy.Android)
			facts.SecurityPatch = tt.patch
			v := policy.Evaluate(req, facts, now)
			if v.Trusted != tt.pass {
				t.Fatalf("trusted = %v, want %v (%+v)", v.Trusted, tt.pass, v.Failed)
			}
			if !tt.pass && v.Failed[0].Reason != policy.ReasonSecurityPatchOutOfDate {
				t.Errorf("reason = %s", v.Failed[0].Reason)
			}
		})
	}
}

func TestOSUpToDateDistance(t *testing.T) {
	tests := []struct {
		latest string
		behind int
		unit   policy.Unit
		device string
		pass   bool
	}{
		{"18.2", 1, policy.Major, "18.2", true},
		{"18.2", 1, policy.Major, "17.0", true},
		{"18.2", 1, policy.Major, "16.7.9", false},
		{"18.2", 1, policy.Major, "19.0", true},
		{"18.2", 1, "", "17.0", true}, // unit defaults to major
		{"18.2", 0, policy.Major, "18.0", true},
		{"18.2", 0, policy.Major, "17.9", false},
		{"18.2", 2, policy.Minor, "18.0", true},
		{"18.2", 2, policy.Minor, "18.0.1", true},
		{"18.2", 2, policy.Minor, "18.3", true},
		{"18.2", 2, policy.Minor, "19.0", true},
		{"18.2", 2, policy.Minor, "17.6", false}, // previous major never passes a minor distance
		{"18.2", 9, policy.Minor, "17.9", false},
		{"18.2", 1, policy.Minor, "18.0", false},
		{"18.2", 1, policy.Minor, "18.1", true},
		{"18.2.1", 0, policy.Minor, "18.2.0", true}, // patch releases do not count
		{"18.2", 0, policy.Minor, "18.1.9", false},
		{"16", 1, policy.Major, "15", true},
		{"16", 1, policy.Major, "14", false},
		{"4294967295", 4294967295, policy.Major, "0", true}, // no overflow
	}
	for _, tt := range tests {
		req := policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: policy.Rule{Level: policy.Require},
			Latest: map[policy.Platform]policy.Latest{policy.IOS: {Version: tt.latest, Behind: tt.behind, Unit: tt.unit}}}}
		facts := healthy(policy.IOS)
		facts.OSVersion = tt.device
		v := policy.Evaluate(req, facts, now)
		if v.Trusted != tt.pass {
			t.Errorf("latest %s, %d %s behind, device %s: trusted = %v, want %v", tt.latest, tt.behind, tt.unit, tt.device, v.Trusted, tt.pass)
		}
		if !tt.pass && len(v.Failed) == 1 && v.Failed[0].Reason != policy.ReasonOutOfDate {
			t.Errorf("reason = %s, want out_of_date", v.Failed[0].Reason)
		}
	}
}

func TestEvaluateListsEveryFailureInOrder(t *testing.T) {
	facts := healthy(policy.Android)
	facts.ScreenLock = ptr(false)
	facts.Tampered = ptr(true)
	facts.OSVersion = "12"
	v := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), facts, now)
	want := []policy.Reason{policy.ReasonNoScreenLock, policy.ReasonRootedDevice, policy.ReasonVersionRestricted, policy.ReasonOutOfDate}
	if got := v.Reasons(); !slices.Equal(got, want) {
		t.Errorf("Reasons() = %v, want %v", got, want)
	}
}

func TestEvaluateSplitsRequireAndWarnFindings(t *testing.T) {
	req := policy.Requirements{
		ScreenLock: policy.Rule{Level: policy.Require},
		Biometrics: policy.Rule{Level: policy.Warn, Until: now.Add(time.Hour)},
	}
	facts := healthy(policy.IOS)
	facts.ScreenLock = ptr(false)
	facts.Biometrics = ptr(false)
	v := policy.Evaluate(req, facts, now)
	if v.Trusted {
		t.Fatal("got trusted")
	}
	assertOneFinding(t, v.Failed, policy.KindScreenLock, policy.ReasonNoScreenLock, "screen lock")
	assertOneFinding(t, v.Warnings, policy.KindBiometrics, policy.ReasonNoBiometrics, "Face ID")
}

func TestEvaluateNeverEchoesModel(t *testing.T) {
	facts := healthy(policy.IOS)
	facts.ScreenLock = ptr(false)
	facts.OSVersion = "1"
	want := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), facts, now)
	facts.Model = `<script>alert(1)</script> 99.0 ios rooted`
	got := policy.Evaluate(everything(policy.Rule{Level: policy.Require}), facts, now)
	if !slices.Equal(got.Reasons(), want.Reasons()) {
		t.Errorf("model changed the verdict: %v vs %v", got.Reasons(), want.Reasons())
	}
	for _, f := range got.Failed {
		if strings.Contains(f.Hint, "script") {
			t.Errorf("hint echoes the model: %q", f.Hint)
		}
	}
}
