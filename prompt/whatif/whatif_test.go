package whatif

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
)

func TestWhatIfFollowsEachBranchOfTheFlow(t *testing.T) {
	now := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	yes, no := true, false
	requirements := policy.Requirements{
		ScreenLock:  policy.Rule{Level: policy.Require},
		NotTampered: policy.Rule{Level: policy.Warn},
	}
	withMode := func(mode policy.Mode, state policy.State, groups ...string) policy.Policy {
		return policy.Policy{Mode: mode, Integration: policy.Integration{State: state, Groups: groups}, Requirements: requirements}
	}
	healthyFacts := json.RawMessage(`{"platform":"android","os_version":"15","screen_lock":true,"tampered":false}`)
	withDevice := func(health json.RawMessage) *store.Device {
		return &store.Device{ID: "d1", User: "alice", Platform: "android", Health: health}
	}
	revoked := withDevice(healthyFacts)
	revoked.Revoked = now.Add(-time.Hour)

	for _, tt := range []struct {
		name       string
		policy     policy.Policy
		q          Query
		outcome    string
		status     policy.Status
		wouldBlock bool
		reasons    []string
		warnings   int
	}{
		{"mode off lets in without a check", withMode(policy.ModeOff, policy.All), Query{}, Allow, "", false, nil, 0},
		{"integration disabled: unknown, block denies", withMode(policy.ModeBlock, policy.Disabled), Query{Device: withDevice(healthyFacts)}, Deny, policy.Unknown, false, []string{device.ReasonNotInScope}, 0},
		{"not in rollout group: check lets in, would block", withMode(policy.ModeCheck, policy.Groups, "pilot"), Query{Groups: []string{"staff"}, Device: withDevice(healthyFacts)}, Allow, policy.Unknown, true, []string{device.ReasonNotInScope}, 0},
		{"desktop: not trusted, block denies", withMode(policy.ModeBlock, policy.All), Query{AccessPlatform: "desktop", Device: withDevice(healthyFacts)}, Deny, policy.NotTrusted, false, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
		{"disabled platform: not trusted", withMode(policy.ModeBlock, policy.All), Query{AccessPlatform: "ios", Device: withDevice(healthyFacts)}, Deny, policy.NotTrusted, false, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
		{"no activated device: check lets in, would block", withMode(policy.ModeCheck, policy.All), Query{AccessPlatform: "android"}, Allow, policy.NotTrusted, true, []string{device.ReasonNoActivatedApp}, 0},
		{"revoked device counts as none", withMode(policy.ModeBlock, policy.All), Query{AccessPlatform: "android", Device: revoked}, Deny, policy.NotTrusted, false, []string{device.ReasonNoActivatedApp}, 0},
		{"trusted device: block lets in", withMode(policy.ModeBlock, policy.All), Query{Device: withDevice(healthyFacts)}, Allow, policy.Trusted, false, nil, 0},
		{"failing device in check: let in, would block", withMode(policy.ModeCheck, policy.All), Query{Device: withDevice(json.RawMessage(`{"platform":"android","os_version":"15","screen_lock":false,"tampered":false}`))}, Allow, policy.NotTrusted, true, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"failing device in block: denied", withMode(policy.ModeBlock, policy.All), Query{Device: withDevice(json.RawMessage(`{"platform":"android","os_version":"15","screen_lock":false,"tampered":false}`))}, Deny, policy.NotTrusted, false, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"warn requirement: trusted with a warning", withMode(policy.ModeBlock, policy.All), Query{Facts: &policy.Facts{Platform: policy.Android, OSVersion: "15", ScreenLock: &yes, Tampered: &yes}}, Allow, policy.Trusted, false, nil, 1},
		{"given facts replace the latest report", withMode(policy.ModeBlock, policy.All), Query{Device: withDevice(healthyFacts), Facts: &policy.Facts{Platform: policy.Android, OSVersion: "15", ScreenLock: &no, Tampered: &no}}, Deny, policy.NotTrusted, false, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"device never reported: unknown", withMode(policy.ModeBlock, policy.All), Query{Device: withDevice(nil)}, Deny, policy.Unknown, false, []string{device.ReasonNotVerified}, 0},
		{"another device than the access device", withMode(policy.ModeCheck, policy.All), Query{AccessPlatform: "ios", Device: withDevice(healthyFacts)}, Allow, policy.NotTrusted, true, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "disabled platform: not trusted" || tt.name == "another device than the access device" {
				tt.policy.Integration.Platforms = []policy.Platform{policy.Android}
			}
			got := Decide(tt.policy, tt.q, now)
			if got.Outcome != tt.outcome || got.Status != tt.status || got.WouldBlock != tt.wouldBlock ||
				!slices.Equal(got.Reasons, append([]string{}, tt.reasons...)) || len(got.Warnings) != tt.warnings {
				t.Errorf("WhatIf = %+v\nwant outcome %s, status %q, would block %v, reasons %v, %d warnings",
					got, tt.outcome, tt.status, tt.wouldBlock, tt.reasons, tt.warnings)
			}
			if got.Mode != tt.policy.Mode || got.Explanation == "" {
				t.Errorf("mode %q, explanation %q", got.Mode, got.Explanation)
			}
		})
	}
}

func TestWhatIfNamesTheDeviceThatIsNotTheAccessDevice(t *testing.T) {
	p := policy.Policy{Mode: policy.ModeBlock, Integration: policy.Integration{State: policy.All}}
	d := &store.Device{ID: "d1", User: "alice", Platform: "android", Health: json.RawMessage(`{"platform":"android","os_version":"15"}`)}
	got := Decide(p, Query{AccessPlatform: "ios", Device: d}, time.Now())
	if got.Outcome != Deny || !slices.Equal(got.Reasons, []string{device.ReasonNotVerified}) {
		t.Errorf("WhatIf = %+v, want a denial as device_not_verified", got)
	}
}

// TestWhatIfNamesTheIntegrationThatDecides: the answer says whether the
// mobile app or a managed device decides on the asked platform, with the
// mobile app the default on phones where it applies.
func TestWhatIfNamesTheIntegrationThatDecides(t *testing.T) {
	now := time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)
	everywhere := []policy.Platform{policy.Windows, policy.MacOS, policy.Linux, policy.IOS, policy.Android}
	both := func(mobile ...policy.Platform) policy.Policy {
		return policy.Policy{Mode: policy.ModeBlock,
			Integration: policy.Integration{State: policy.All, Platforms: mobile},
			Managed:     policy.Managed{State: policy.All, Platforms: everywhere}}
	}
	managedOnly := policy.Policy{Mode: policy.ModeBlock, Managed: policy.Managed{State: policy.All}}
	entry := func(platform string) *store.InventoryEntry {
		return &store.InventoryEntry{Fingerprint: "ab", Platform: platform}
	}
	for _, tt := range []struct {
		name        string
		policy      policy.Policy
		q           Query
		integration policy.Decider
		outcome     string
		reasons     []string
	}{
		{"managed desktop", managedOnly, Query{AccessPlatform: "windows", ManagedDevice: entry("windows")}, policy.DecidedByManaged, Allow, nil},
		{"desktop without a certificate", managedOnly, Query{AccessPlatform: "macos"}, policy.DecidedByManaged, Deny, []string{device.ReasonNoDeviceCertificate}},
		{"managed device's own platform when none is asked", managedOnly, Query{ManagedDevice: entry("linux")}, policy.DecidedByManaged, Allow, nil},
		{"phone with mobile on: mobile decides", both(), Query{AccessPlatform: "android", ManagedDevice: entry("android")}, policy.DecidedByMobile, Deny, []string{device.ReasonNoActivatedApp}},
		{"phone's entry behind a desktop: not managed", both(), Query{AccessPlatform: "windows", ManagedDevice: entry("android")}, policy.DecidedByManaged, Deny, []string{device.ReasonNotManaged}},
		{"mobile off for android: managed vouches", both(policy.IOS), Query{AccessPlatform: "android", ManagedDevice: entry("android")}, policy.DecidedByManaged, Allow, nil},
		{"phone that managed does not cover", managedOnly, Query{AccessPlatform: "ios"}, policy.DecidedByNone, Deny, []string{string(policy.ReasonUnsupportedPlatform)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.policy, tt.q, now)
			if got.Integration != tt.integration || got.Outcome != tt.outcome || !slices.Equal(got.Reasons, append([]string{}, tt.reasons...)) {
				t.Errorf("WhatIf = %+v\nwant integration %q, outcome %s, reasons %v", got, tt.integration, tt.outcome, tt.reasons)
			}
		})
	}
}
