package policy_test

import (
	"slices"
	"testing"

	"github.com/trustgate/trustgate/policy"
)

func TestDecideEveryModeAndStatus(t *testing.T) {
	failed := []policy.Reason{policy.ReasonNoScreenLock, policy.ReasonVersionRestricted}
	notTrusted := policy.ReasonNotTrusted
	tests := []struct {
		mode   policy.Mode
		status policy.Status
		want   policy.Outcome
	}{
		{policy.ModeOff, policy.Trusted, policy.Outcome{Allow: true}},
		{policy.ModeOff, policy.NotTrusted, policy.Outcome{Allow: true}},
		{policy.ModeOff, policy.Unknown, policy.Outcome{Allow: true}},
		{policy.ModeCheck, policy.Trusted, policy.Outcome{Allow: true, Record: true}},
		{policy.ModeCheck, policy.NotTrusted, policy.Outcome{Allow: true, Record: true, WouldBlock: true, Reason: notTrusted, Failed: failed}},
		{policy.ModeCheck, policy.Unknown, policy.Outcome{Allow: true, Record: true, WouldBlock: true, Reason: notTrusted, Failed: failed}},
		{policy.ModeBlock, policy.Trusted, policy.Outcome{Allow: true, Record: true}},
		{policy.ModeBlock, policy.NotTrusted, policy.Outcome{Record: true, Reason: notTrusted, Failed: failed}},
		{policy.ModeBlock, policy.Unknown, policy.Outcome{Record: true, Reason: notTrusted, Failed: failed}},
		{policy.ModeBlock, "", policy.Outcome{Record: true, Reason: notTrusted, Failed: failed}},
		{"", policy.Trusted, policy.Outcome{Record: true, Reason: policy.ReasonInvalidPolicy, Failed: failed}},
		{"enforce", policy.Trusted, policy.Outcome{Record: true, Reason: policy.ReasonInvalidPolicy, Failed: failed}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode)+"/"+string(tt.status), func(t *testing.T) {
			got := policy.Decide(tt.mode, tt.status, failed)
			if got.Allow != tt.want.Allow || got.Record != tt.want.Record || got.WouldBlock != tt.want.WouldBlock ||
				got.Reason != tt.want.Reason || !slices.Equal(got.Failed, tt.want.Failed) {
				t.Errorf("Decide(%q, %q) = %+v, want %+v", tt.mode, tt.status, got, tt.want)
			}
		})
	}
}

func TestDecideDeniesNeverCheckedDeviceInBlockMode(t *testing.T) {
	got := policy.Decide(policy.ModeBlock, policy.Unknown, nil)
	if got.Allow || got.Reason != policy.ReasonNotTrusted || len(got.Failed) != 0 {
		t.Errorf("got %+v, want denied as endpoint_is_not_trusted without failed requirements", got)
	}
}

func TestDecideCopiesReasons(t *testing.T) {
	failed := []policy.Reason{policy.ReasonRootedDevice}
	got := policy.Decide(policy.ModeBlock, policy.NotTrusted, failed)
	failed[0] = policy.ReasonNoBiometrics
	if got.Failed[0] != policy.ReasonRootedDevice {
		t.Error("outcome shares the caller's slice")
	}
}

func TestDecideFollowsVerdict(t *testing.T) {
	facts := healthy(policy.Android)
	facts.Tampered = ptr(true)
	v := policy.Evaluate(policy.Requirements{NotTampered: policy.Rule{Level: policy.Require}}, facts, now)
	got := policy.Decide(policy.ModeCheck, v.Status(), v.Reasons())
	if !got.Allow || !got.WouldBlock || !slices.Equal(got.Failed, []policy.Reason{policy.ReasonRootedDevice}) {
		t.Errorf("got %+v, want allowed, would_block, rooted_device", got)
	}
}
