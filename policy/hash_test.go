package policy_test

import (
	"regexp"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

var deadline = time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)

// basePolicy returns a policy that sets every verdict-relevant field.
func basePolicy() policy.Policy {
	p := policy.Policy{
		Mode: policy.ModeBlock,
		Integration: policy.Integration{
			State:     policy.Groups,
			Groups:    []string{"pilot", "it"},
			Platforms: []policy.Platform{policy.IOS, policy.Android},
		},
		Requirements: everything(policy.Rule{Level: policy.Require}),
	}
	p.Requirements.Biometrics = policy.Rule{Level: policy.Warn, Until: deadline}
	p.Requirements.DiskEncryption = policy.Rule{Level: policy.Warn}
	return p
}

// goldenHash is basePolicy's hash. It must not change between releases
// unless the meaning of a policy does: every gateway instance, old or new,
// must compute the same trust-cache key for the same policy.
const goldenHash = "fc171e1d47a6b981a793e79425256e7456a3166525cf1d37a75a3bb27505a3b2"

func TestHashIsStableAcrossProcesses(t *testing.T) {
	got := basePolicy().Hash()
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got) {
		t.Fatalf("Hash() = %q, want 64 hex digits", got)
	}
	if got != goldenHash {
		t.Errorf("Hash() = %s, want %s", got, goldenHash)
	}
	for range 20 { // maps iterate in a different order each time
		if again := basePolicy().Hash(); again != got {
			t.Fatalf("Hash() changed between calls: %s then %s", got, again)
		}
	}
}

func TestHashIgnoresHowEquivalentPoliciesAreWritten(t *testing.T) {
	base := basePolicy().Hash()
	tests := map[string]func(p *policy.Policy){
		"version with v and trailing zero": func(p *policy.Policy) { p.Requirements.MinOS.Versions[policy.IOS] = "v17.4.0" },
		"version with spaces":              func(p *policy.Policy) { p.Requirements.MinAppVersion.Version = " 2.3 " },
		"latest with leading zero": func(p *policy.Policy) {
			l := p.Requirements.OSUpToDate.Latest[policy.IOS]
			l.Version = "018.2.0"
			p.Requirements.OSUpToDate.Latest[policy.IOS] = l
		},
		"groups reordered and repeated": func(p *policy.Policy) { p.Integration.Groups = []string{"it", "pilot", "it"} },
		"platforms reordered": func(p *policy.Policy) {
			p.Integration.Platforms = []policy.Platform{policy.Android, policy.IOS, policy.IOS}
		},
		"platforms left to default": func(p *policy.Policy) { p.Integration.Platforms = nil },
		"deadline in another zone": func(p *policy.Policy) {
			p.Requirements.Biometrics.Until = deadline.In(time.FixedZone("EST", -5*3600))
		},
		"patch date with spaces": func(p *policy.Policy) { p.Requirements.MinSecurityPatch.Date = " 2026-10-05 " },
		"unit left to default": func(p *policy.Policy) {
			l := p.Requirements.OSUpToDate.Latest[policy.IOS]
			l.Unit = ""
			p.Requirements.OSUpToDate.Latest[policy.IOS] = l
		},
		"maps rebuilt in another order": func(p *policy.Policy) {
			p.Requirements.MinOS.Versions = map[policy.Platform]string{policy.Android: "14", policy.IOS: "17.4"}
		},
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			p := basePolicy()
			change(&p)
			if got := p.Hash(); got != base {
				t.Errorf("Hash() = %s, want %s", got, base)
			}
		})
	}
}

func TestHashIgnoresGroupsUnlessStateIsGroups(t *testing.T) {
	a, b := basePolicy(), basePolicy()
	a.Integration.State, b.Integration.State = policy.All, policy.All
	b.Integration.Groups = []string{"everyone-else"}
	if a.Hash() != b.Hash() {
		t.Error("groups changed the hash of an integration enabled for all")
	}
}

func TestHashChangesWithEveryVerdictRelevantField(t *testing.T) {
	base := basePolicy().Hash()
	setLatest := func(p *policy.Policy, f func(*policy.Latest)) {
		l := p.Requirements.OSUpToDate.Latest[policy.IOS]
		f(&l)
		p.Requirements.OSUpToDate.Latest[policy.IOS] = l
	}
	tests := map[string]func(p *policy.Policy){
		"mode":                   func(p *policy.Policy) { p.Mode = policy.ModeCheck },
		"state all":              func(p *policy.Policy) { p.Integration.State = policy.All },
		"state disabled":         func(p *policy.Policy) { p.Integration.State = policy.Disabled },
		"group added":            func(p *policy.Policy) { p.Integration.Groups = append(p.Integration.Groups, "sales") },
		"group renamed":          func(p *policy.Policy) { p.Integration.Groups = []string{"pilot", "IT"} },
		"groups joined":          func(p *policy.Policy) { p.Integration.Groups = []string{"pilot,it"} },
		"platform dropped":       func(p *policy.Policy) { p.Integration.Platforms = []policy.Platform{policy.IOS} },
		"screen lock to warn":    func(p *policy.Policy) { p.Requirements.ScreenLock.Level = policy.Warn },
		"screen lock off":        func(p *policy.Policy) { p.Requirements.ScreenLock.Level = "" },
		"biometrics to require":  func(p *policy.Policy) { p.Requirements.Biometrics = policy.Rule{Level: policy.Require} },
		"biometrics deadline":    func(p *policy.Policy) { p.Requirements.Biometrics.Until = deadline.Add(time.Second) },
		"biometrics no deadline": func(p *policy.Policy) { p.Requirements.Biometrics.Until = time.Time{} },
		"disk encryption deadline": func(p *policy.Policy) {
			p.Requirements.DiskEncryption.Until = deadline
		},
		"not tampered to warn": func(p *policy.Policy) { p.Requirements.NotTampered.Level = policy.Warn },
		"min os level":         func(p *policy.Policy) { p.Requirements.MinOS.Level = policy.Warn },
		"min os ios":           func(p *policy.Policy) { p.Requirements.MinOS.Versions[policy.IOS] = "17.4.1" },
		"min os beta":          func(p *policy.Policy) { p.Requirements.MinOS.Versions[policy.IOS] = "17.4-beta1" },
		"min os vendor build":  func(p *policy.Policy) { p.Requirements.MinOS.Versions[policy.Android] = "14_r1" },
		"min os platform gone": func(p *policy.Policy) { delete(p.Requirements.MinOS.Versions, policy.Android) },
		"min os platform swap": func(p *policy.Policy) {
			p.Requirements.MinOS.Versions = map[policy.Platform]string{policy.IOS: "14", policy.Android: "17.4"}
		},
		"patch date":              func(p *policy.Policy) { p.Requirements.MinSecurityPatch.Date = "2026-10-06" },
		"patch age":               func(p *policy.Policy) { p.Requirements.MinSecurityPatch.MaxAgeDays = 91 },
		"patch level":             func(p *policy.Policy) { p.Requirements.MinSecurityPatch.Level = policy.Warn },
		"app version":             func(p *policy.Policy) { p.Requirements.MinAppVersion.Version = "2.3.1" },
		"app level":               func(p *policy.Policy) { p.Requirements.MinAppVersion.Level = "" },
		"latest version":          func(p *policy.Policy) { setLatest(p, func(l *policy.Latest) { l.Version = "18.3" }) },
		"latest distance":         func(p *policy.Policy) { setLatest(p, func(l *policy.Latest) { l.Behind = 2 }) },
		"latest unit":             func(p *policy.Policy) { setLatest(p, func(l *policy.Latest) { l.Unit = policy.Minor }) },
		"latest platform removed": func(p *policy.Policy) { delete(p.Requirements.OSUpToDate.Latest, policy.Android) },
		"up to date level":        func(p *policy.Policy) { p.Requirements.OSUpToDate.Level = policy.Warn },
	}
	seen := map[string]string{base: "base"}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			p := basePolicy()
			change(&p)
			got := p.Hash()
			if got == base {
				t.Fatalf("Hash() did not change")
			}
			if other, ok := seen[got]; ok {
				t.Errorf("Hash() equals that of %q", other)
			}
			seen[got] = name
		})
	}
}

func TestHashIgnoresParametersOfRequirementsThatAreOff(t *testing.T) {
	a, b := basePolicy(), basePolicy()
	a.Requirements.MinAppVersion = policy.MinAppVersion{Version: "1"}
	b.Requirements.MinAppVersion = policy.MinAppVersion{Version: "9"}
	if a.Hash() != b.Hash() {
		t.Error("the version of a requirement that is off changed the hash")
	}
}

func TestHashTreatsMonthOnlyPatchDateAsFirstOfMonth(t *testing.T) {
	a, b := basePolicy(), basePolicy()
	a.Requirements.MinSecurityPatch.Date = "2026-10"
	b.Requirements.MinSecurityPatch.Date = "2026-10-01"
	if a.Hash() != b.Hash() {
		t.Error("2026-10 and 2026-10-01 hash differently")
	}
}
