package prompt

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
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
	device := func(health json.RawMessage) *store.Device {
		return &store.Device{ID: "d1", User: "alice", Platform: "android", Health: health}
	}
	revoked := device(healthyFacts)
	revoked.Revoked = now.Add(-time.Hour)

	for _, tt := range []struct {
		name       string
		policy     policy.Policy
		q          WhatIfQuery
		outcome    string
		status     policy.Status
		wouldBlock bool
		reasons    []string
		warnings   int
	}{
		{"mode off lets in without a check", withMode(policy.ModeOff, policy.All), WhatIfQuery{}, WhatIfAllow, "", false, nil, 0},
		{"integration disabled: unknown, block denies", withMode(policy.ModeBlock, policy.Disabled), WhatIfQuery{Device: device(healthyFacts)}, WhatIfDeny, policy.Unknown, false, []string{reasonNotInScope}, 0},
		{"not in rollout group: check lets in, would block", withMode(policy.ModeCheck, policy.Groups, "pilot"), WhatIfQuery{Groups: []string{"staff"}, Device: device(healthyFacts)}, WhatIfAllow, policy.Unknown, true, []string{reasonNotInScope}, 0},
		{"desktop: not trusted, block denies", withMode(policy.ModeBlock, policy.All), WhatIfQuery{AccessPlatform: "desktop", Device: device(healthyFacts)}, WhatIfDeny, policy.NotTrusted, false, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
		{"disabled platform: not trusted", withMode(policy.ModeBlock, policy.All), WhatIfQuery{AccessPlatform: "ios", Device: device(healthyFacts)}, WhatIfDeny, policy.NotTrusted, false, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
		{"no activated device: check lets in, would block", withMode(policy.ModeCheck, policy.All), WhatIfQuery{AccessPlatform: "android"}, WhatIfAllow, policy.NotTrusted, true, []string{reasonNoActivatedApp}, 0},
		{"revoked device counts as none", withMode(policy.ModeBlock, policy.All), WhatIfQuery{AccessPlatform: "android", Device: revoked}, WhatIfDeny, policy.NotTrusted, false, []string{reasonNoActivatedApp}, 0},
		{"trusted device: block lets in", withMode(policy.ModeBlock, policy.All), WhatIfQuery{Device: device(healthyFacts)}, WhatIfAllow, policy.Trusted, false, nil, 0},
		{"failing device in check: let in, would block", withMode(policy.ModeCheck, policy.All), WhatIfQuery{Device: device(json.RawMessage(`{"platform":"android","os_version":"15","screen_lock":false,"tampered":false}`))}, WhatIfAllow, policy.NotTrusted, true, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"failing device in block: denied", withMode(policy.ModeBlock, policy.All), WhatIfQuery{Device: device(json.RawMessage(`{"platform":"android","os_version":"15","screen_lock":false,"tampered":false}`))}, WhatIfDeny, policy.NotTrusted, false, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"warn requirement: trusted with a warning", withMode(policy.ModeBlock, policy.All), WhatIfQuery{Facts: &policy.Facts{Platform: policy.Android, OSVersion: "15", ScreenLock: &yes, Tampered: &yes}}, WhatIfAllow, policy.Trusted, false, nil, 1},
		{"given facts replace the latest report", withMode(policy.ModeBlock, policy.All), WhatIfQuery{Device: device(healthyFacts), Facts: &policy.Facts{Platform: policy.Android, OSVersion: "15", ScreenLock: &no, Tampered: &no}}, WhatIfDeny, policy.NotTrusted, false, []string{string(policy.ReasonNoScreenLock)}, 0},
		{"device never reported: unknown", withMode(policy.ModeBlock, policy.All), WhatIfQuery{Device: device(nil)}, WhatIfDeny, policy.Unknown, false, []string{reasonNotVerified}, 0},
		{"another device than the access device", withMode(policy.ModeCheck, policy.All), WhatIfQuery{AccessPlatform: "ios", Device: device(healthyFacts)}, WhatIfAllow, policy.NotTrusted, true, []string{string(policy.ReasonUnsupportedPlatform)}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "disabled platform: not trusted" || tt.name == "another device than the access device" {
				tt.policy.Integration.Platforms = []policy.Platform{policy.Android}
			}
			got := WhatIf(tt.policy, tt.q, now)
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
	got := WhatIf(p, WhatIfQuery{AccessPlatform: "ios", Device: d}, time.Now())
	if got.Outcome != WhatIfDeny || !slices.Equal(got.Reasons, []string{reasonNotVerified}) {
		t.Errorf("WhatIf = %+v, want a denial as device_not_verified", got)
	}
}
