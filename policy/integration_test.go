package policy_test

import (
	"testing"

	"github.com/trustgate/trustgate/policy"
)

func TestIntegrationApplies(t *testing.T) {
	both := []policy.Platform{policy.IOS, policy.Android}
	iosOnly := []policy.Platform{policy.IOS}
	androidOnly := []policy.Platform{policy.Android}
	pilot := []string{"pilot", "it"}
	tests := []struct {
		name        string
		integration policy.Integration
		groups      []string
		platform    policy.Platform
		want        bool
	}{
		{"disabled, in group", policy.Integration{State: policy.Disabled, Groups: pilot}, []string{"pilot"}, policy.IOS, false},
		{"unset state is disabled", policy.Integration{}, []string{"pilot"}, policy.Android, false},
		{"all, ios", policy.Integration{State: policy.All}, nil, policy.IOS, true},
		{"all, android", policy.Integration{State: policy.All}, nil, policy.Android, true},
		{"all, desktop", policy.Integration{State: policy.All}, nil, "windows", false},
		{"all, unknown platform", policy.Integration{State: policy.All}, nil, "", false},
		{"all, ios only, on ios", policy.Integration{State: policy.All, Platforms: iosOnly}, nil, policy.IOS, true},
		{"all, ios only, on android", policy.Integration{State: policy.All, Platforms: iosOnly}, nil, policy.Android, false},
		{"all, android only, on ios", policy.Integration{State: policy.All, Platforms: androidOnly}, nil, policy.IOS, false},
		{"all, both listed, on android", policy.Integration{State: policy.All, Platforms: both}, nil, policy.Android, true},
		{"groups, in first group", policy.Integration{State: policy.Groups, Groups: pilot}, []string{"staff", "pilot"}, policy.IOS, true},
		{"groups, in second group", policy.Integration{State: policy.Groups, Groups: pilot}, []string{"it"}, policy.Android, true},
		{"groups, in no group", policy.Integration{State: policy.Groups, Groups: pilot}, []string{"staff"}, policy.IOS, false},
		{"groups, no groups at all", policy.Integration{State: policy.Groups, Groups: pilot}, nil, policy.IOS, false},
		{"groups, case differs", policy.Integration{State: policy.Groups, Groups: pilot}, []string{"Pilot"}, policy.IOS, false},
		{"groups, empty group name", policy.Integration{State: policy.Groups, Groups: pilot}, []string{""}, policy.IOS, false},
		{"groups, in group, platform off", policy.Integration{State: policy.Groups, Groups: pilot, Platforms: androidOnly}, []string{"pilot"}, policy.IOS, false},
		{"groups, in group, platform on", policy.Integration{State: policy.Groups, Groups: pilot, Platforms: androidOnly}, []string{"pilot"}, policy.Android, true},
		{"groups, in group, desktop", policy.Integration{State: policy.Groups, Groups: pilot}, []string{"pilot"}, "macos", false},
		{"unknown state", policy.Integration{State: "everyone"}, []string{"pilot"}, policy.IOS, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.integration.Applies(tt.groups, tt.platform); got != tt.want {
				t.Errorf("Applies(%v, %q) = %v, want %v", tt.groups, tt.platform, got, tt.want)
			}
		})
	}
}

func TestIntegrationValidate(t *testing.T) {
	tests := []struct {
		name        string
		integration policy.Integration
		wantErr     bool
	}{
		{"zero", policy.Integration{}, false},
		{"all", policy.Integration{State: policy.All, Platforms: []policy.Platform{policy.IOS}}, false},
		{"groups", policy.Integration{State: policy.Groups, Groups: []string{"pilot"}}, false},
		{"groups without groups", policy.Integration{State: policy.Groups}, true},
		{"empty group name", policy.Integration{State: policy.Groups, Groups: []string{"pilot", ""}}, true},
		{"unknown state", policy.Integration{State: "some"}, true},
		{"unknown platform", policy.Integration{State: policy.All, Platforms: []policy.Platform{"windows"}}, true},
		{"platform in capitals", policy.Integration{State: policy.All, Platforms: []policy.Platform{"IOS"}}, true},
	}
	for _, tt := range tests {
		if err := tt.integration.Validate(); (err != nil) != tt.wantErr {
			t.Errorf("%s: Validate() = %v, want error %v", tt.name, err, tt.wantErr)
		}
	}
}

func TestParseState(t *testing.T) {
	for _, s := range []policy.State{policy.Disabled, policy.Groups, policy.All} {
		if got, err := policy.ParseState(string(s)); err != nil || got != s {
			t.Errorf("ParseState(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "enabled", "on", "group"} {
		if _, err := policy.ParseState(s); err == nil {
			t.Errorf("ParseState(%q): want an error", s)
		}
	}
}

func TestParsePlatform(t *testing.T) {
	for in, want := range map[string]policy.Platform{"ios": policy.IOS, "iOS": policy.IOS, " Android ": policy.Android} {
		if got, err := policy.ParsePlatform(in); err != nil || got != want {
			t.Errorf("ParsePlatform(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "windows", "ipados", "iphone"} {
		if _, err := policy.ParsePlatform(in); err == nil {
			t.Errorf("ParsePlatform(%q): want an error", in)
		}
	}
}
