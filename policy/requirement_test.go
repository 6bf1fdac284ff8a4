package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

func TestRequirementsValidateAcceptsGoodConfig(t *testing.T) {
	for _, level := range []policy.Level{"", policy.Require, policy.Warn} {
		if err := everything(policy.Rule{Level: level}).Validate(); err != nil {
			t.Errorf("level %q: Validate() = %v", level, err)
		}
	}
	warnUntil := everything(policy.Rule{Level: policy.Warn, Until: time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)})
	if err := warnUntil.Validate(); err != nil {
		t.Errorf("warn until: Validate() = %v", err)
	}
	if err := (policy.Requirements{}).Validate(); err != nil {
		t.Errorf("zero: Validate() = %v", err)
	}
}

func TestRequirementsValidateRefusesBadConfig(t *testing.T) {
	req := policy.Rule{Level: policy.Require}
	deadline := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		r       policy.Requirements
		wantErr string
	}{
		{"unknown level", policy.Requirements{ScreenLock: policy.Rule{Level: "must"}}, `screen_lock: unknown level "must"`},
		{"deadline on require", policy.Requirements{Biometrics: policy.Rule{Level: policy.Require, Until: deadline}}, "biometrics: a deadline"},
		{"deadline without level", policy.Requirements{DiskEncryption: policy.Rule{Until: deadline}}, "disk_encryption: a deadline"},
		{"min_os without versions", policy.Requirements{MinOS: policy.MinOS{Rule: req}}, "min_os: no platform"},
		{"min_os bad version", policy.Requirements{MinOS: policy.MinOS{Rule: req,
			Versions: map[policy.Platform]string{policy.IOS: "seventeen"}}}, `min_os: ios: version "seventeen"`},
		{"min_os unknown platform", policy.Requirements{MinOS: policy.MinOS{Rule: req,
			Versions: map[policy.Platform]string{"windows": "11"}}}, `min_os: unknown platform "windows"`},
		{"patch bad date", policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: req, Date: "2026-13-01"}}, "min_security_patch: security patch"},
		{"patch negative age", policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: req, MaxAgeDays: -1}}, "min_security_patch: negative"},
		{"patch without bound", policy.Requirements{MinSecurityPatch: policy.MinSecurityPatch{Rule: req}}, "min_security_patch: neither"},
		{"app without version", policy.Requirements{MinAppVersion: policy.MinAppVersion{Rule: req}}, "min_app_version: empty version"},
		{"app bad version", policy.Requirements{MinAppVersion: policy.MinAppVersion{Rule: req, Version: "new"}}, "min_app_version: version"},
		{"up to date without platforms", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: req}}, "os_up_to_date: no platform"},
		{"up to date bad version", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: req,
			Latest: map[policy.Platform]policy.Latest{policy.Android: {Version: "latest"}}}}, "os_up_to_date: android: latest version"},
		{"up to date negative distance", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: req,
			Latest: map[policy.Platform]policy.Latest{policy.IOS: {Version: "18", Behind: -1}}}}, "os_up_to_date: ios: negative distance -1"},
		{"up to date unknown unit", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: req,
			Latest: map[policy.Platform]policy.Latest{policy.IOS: {Version: "18", Unit: "patch"}}}}, `unknown unit "patch"`},
		{"up to date unknown platform", policy.Requirements{OSUpToDate: policy.OSUpToDate{Rule: req,
			Latest: map[policy.Platform]policy.Latest{"blackberry": {Version: "10"}}}}, `unknown platform "blackberry"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if err == nil {
				t.Fatalf("Validate() = nil, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRequirementsValidateReportsEveryError(t *testing.T) {
	r := policy.Requirements{
		ScreenLock:    policy.Rule{Level: "must"},
		MinAppVersion: policy.MinAppVersion{Rule: policy.Rule{Level: policy.Require}, Version: "x"},
	}
	err := r.Validate()
	if err == nil || !strings.Contains(err.Error(), "screen_lock") || !strings.Contains(err.Error(), "min_app_version") {
		t.Errorf("Validate() = %v, want both errors", err)
	}
}

func TestParseLevel(t *testing.T) {
	for _, l := range []policy.Level{policy.Require, policy.Warn} {
		if got, err := policy.ParseLevel(string(l)); err != nil || got != l {
			t.Errorf("ParseLevel(%q) = %q, %v", l, got, err)
		}
	}
	for _, s := range []string{"", "required", "off", "warning"} {
		if _, err := policy.ParseLevel(s); err == nil {
			t.Errorf("ParseLevel(%q): want an error", s)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	good := policy.Policy{
		Mode:         policy.ModeBlock,
		Integration:  policy.Integration{State: policy.Groups, Groups: []string{"pilot"}},
		Requirements: everything(policy.Rule{Level: policy.Require}),
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	bad := good
	bad.Mode = "enforce"
	bad.Integration.Platforms = []policy.Platform{"windows"}
	bad.Requirements.MinAppVersion.Version = ""
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{`unknown mode "enforce"`, `integration: unknown platform "windows"`, "requirements: min_app_version"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %q, want it to contain %q", err, want)
		}
	}
}
