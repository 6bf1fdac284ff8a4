package policy_test

import (
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

// benchNow is the instant the benchmarks evaluate at.
var benchNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// benchPolicy is a policy an administrator might run: every flag required
// but biometrics (a warning until a deadline), a minimum OS and an
// up-to-date distance per platform, a recent Android patch and a minimum app
// version.
func benchPolicy() policy.Policy {
	require := policy.Rule{Level: policy.Require}
	return policy.Policy{
		Mode: policy.ModeBlock,
		Integration: policy.Integration{
			State:  policy.Groups,
			Groups: []string{"staff", "contractors", "admins"},
		},
		Requirements: policy.Requirements{
			ScreenLock:     require,
			Biometrics:     policy.Rule{Level: policy.Warn, Until: benchNow.AddDate(0, 1, 0)},
			DiskEncryption: require,
			NotTampered:    require,
			MinOS: policy.MinOS{Rule: require, Versions: map[policy.Platform]string{
				policy.IOS:     "17.4",
				policy.Android: "14",
			}},
			MinSecurityPatch: policy.MinSecurityPatch{Rule: require, Date: "2026-06", MaxAgeDays: 90},
			MinAppVersion:    policy.MinAppVersion{Rule: require, Version: "2.3.0"},
			OSUpToDate: policy.OSUpToDate{Rule: require, Latest: map[policy.Platform]policy.Latest{
				policy.IOS:     {Version: "18.2", Behind: 1},
				policy.Android: {Version: "15", Behind: 1},
			}},
		},
	}
}

func benchFlag(b bool) *bool { return &b }

// BenchmarkEvaluate measures policy.Evaluate, what the device API runs on
// every health report, against benchPolicy: a healthy iPhone, a healthy
// Android phone (which also has its patch level checked), and an Android
// phone that fails six requirements and warns on a seventh, so that every
// finding builds its hint.
func BenchmarkEvaluate(b *testing.B) {
	req := benchPolicy().Requirements
	cases := []struct {
		name    string
		facts   policy.Facts
		trusted bool
		failed  int
	}{
		{"trusted_ios", policy.Facts{
			Platform:       policy.IOS,
			OSVersion:      "18.1.1",
			ScreenLock:     benchFlag(true),
			Biometrics:     benchFlag(true),
			DiskEncryption: benchFlag(true),
			Tampered:       benchFlag(false),
			AppVersion:     "2.4.1",
			Model:          "iPhone15,2",
		}, true, 0},
		{"trusted_android", policy.Facts{
			Platform:       policy.Android,
			OSVersion:      "15",
			SecurityPatch:  "2026-11-01",
			ScreenLock:     benchFlag(true),
			Biometrics:     benchFlag(true),
			DiskEncryption: benchFlag(true),
			Tampered:       benchFlag(false),
			AppVersion:     "2.4.1",
			Model:          "Pixel 8",
		}, true, 0},
		{"untrusted_android", policy.Facts{
			Platform:       policy.Android,
			OSVersion:      "12",
			SecurityPatch:  "2025-01-05",
			ScreenLock:     benchFlag(false),
			Biometrics:     benchFlag(false),
			DiskEncryption: benchFlag(true),
			Tampered:       benchFlag(true),
			AppVersion:     "2.1.0",
			Model:          "Galaxy S9",
		}, false, 6},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			v := policy.Evaluate(req, c.facts, benchNow)
			if v.Trusted != c.trusted || len(v.Failed) != c.failed {
				b.Fatalf("Evaluate = trusted %v with %d failed (%v), want trusted %v with %d failed",
					v.Trusted, len(v.Failed), v.Reasons(), c.trusted, c.failed)
			}
			b.ReportAllocs()
			for b.Loop() {
				v = policy.Evaluate(req, c.facts, benchNow)
			}
			_ = v
		})
	}
}

// BenchmarkPolicyHash measures Policy.Hash of benchPolicy. The gateway
// hashes its policy when a Gate is made (at provisioning) and when a reload
// replaces a site's policy, not per request; this bounds what that costs.
func BenchmarkPolicyHash(b *testing.B) {
	p := benchPolicy()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Hash()
	}
}
