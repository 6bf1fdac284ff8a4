package policy

import (
	"strings"
	"testing"
)

// The mobile app is the default on iOS and Android: where it applies, the
// managed integration is not consulted for that platform; where it is off
// for a platform (or for the person), a managed device may vouch.
func TestDeciderMobileIsTheDefaultOnPhones(t *testing.T) {
	t.Parallel()
	everywhere := Managed{State: All, Platforms: []Platform{Windows, MacOS, Linux, IOS, Android}}
	for _, tt := range []struct {
		name     string
		policy   Policy
		groups   []string
		platform Platform
		want     Decider
	}{
		{"phone, both apply: mobile", Policy{Integration: Integration{State: All}, Managed: everywhere}, nil, IOS, DecidedByMobile},
		{"android, both apply: mobile", Policy{Integration: Integration{State: All}, Managed: everywhere}, nil, Android, DecidedByMobile},
		{"desktop, both apply: managed", Policy{Integration: Integration{State: All}, Managed: everywhere}, nil, Windows, DecidedByManaged},
		{"mobile off for android: managed may vouch", Policy{Integration: Integration{State: All, Platforms: []Platform{IOS}}, Managed: everywhere}, nil, Android, DecidedByManaged},
		{"mobile off for the person: managed may vouch", Policy{Integration: Integration{State: Groups, Groups: []string{"pilot"}}, Managed: everywhere}, []string{"staff"}, IOS, DecidedByManaged},
		{"managed defaults to desktops only", Policy{Managed: Managed{State: All}}, nil, IOS, DecidedByNone},
		{"managed default platforms include macos", Policy{Managed: Managed{State: All}}, nil, MacOS, DecidedByManaged},
		{"managed for a group, person outside it", Policy{Managed: Managed{State: Groups, Groups: []string{"it"}}}, []string{"staff"}, Linux, DecidedByNone},
		{"managed for a group, person in it", Policy{Managed: Managed{State: Groups, Groups: []string{"it"}}}, []string{"staff", "it"}, Linux, DecidedByManaged},
		{"managed disabled: desktops cannot be checked", Policy{Integration: Integration{State: All}}, nil, Windows, DecidedByNone},
		{"unknown platform: nobody decides", Policy{Integration: Integration{State: All}, Managed: everywhere}, nil, Platform("plan9"), DecidedByNone},
	} {
		if got := tt.policy.Decider(tt.groups, tt.platform); got != tt.want {
			t.Errorf("%s: Decider = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestManagedValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		m    Managed
		want string // substring of the error; empty: valid
	}{
		{Managed{}, ""},
		{Managed{State: All, Platforms: []Platform{Windows, IOS}, Match: MatchSANURI}, ""},
		{Managed{State: Groups}, "names no groups"},
		{Managed{State: "some"}, "unknown integration state"},
		{Managed{State: All, Platforms: []Platform{"beos"}}, `unknown platform "beos"`},
		{Managed{State: All, Match: "thumbprint"}, `unknown match "thumbprint"`},
	} {
		err := tt.m.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v: Validate = %v, want %q", tt.m, err, tt.want)
		}
	}
	if err := (Policy{Mode: ModeBlock, Managed: Managed{State: "on"}}).Validate(); err == nil || !strings.Contains(err.Error(), "managed:") {
		t.Errorf("Policy.Validate with a bad managed state = %v, want a managed: error", err)
	}
}

func TestParseManagedPlatformAndMatch(t *testing.T) {
	t.Parallel()
	if p, err := ParseManagedPlatform(" macOS "); err != nil || p != MacOS {
		t.Errorf("ParseManagedPlatform(macOS) = %q, %v", p, err)
	}
	if _, err := ParseManagedPlatform("amiga"); err == nil {
		t.Error("ParseManagedPlatform(amiga) accepted")
	}
	if _, err := ParsePlatform("windows"); err == nil {
		t.Error("the mobile app's ParsePlatform accepted windows")
	}
	for _, word := range []string{"fingerprint", "serial", "san_uri", "hardware_serial"} {
		if m, err := ParseMatch(word); err != nil || string(m) != word {
			t.Errorf("ParseMatch(%q) = %q, %v", word, m, err)
		}
	}
	// Case-sensitive, as the Caddyfile's other words are.
	for _, word := range []string{"", "Fingerprint", "san", "subject"} {
		if m, err := ParseMatch(word); err == nil {
			t.Errorf("ParseMatch(%q) = %q, want an error", word, m)
		}
	}
	if got := (Managed{}).MatchBy(); got != MatchFingerprint {
		t.Errorf("default match = %q", got)
	}
}

// A policy whose managed settings are off hashes as it did before they
// existed, so cached trust decisions survive the upgrade; turning them on,
// or changing them, changes the hash.
func TestHashManaged(t *testing.T) {
	t.Parallel()
	base := Policy{Mode: ModeBlock, Integration: Integration{State: All}}
	off := base
	off.Managed = Managed{State: Disabled, Platforms: []Platform{Windows}, Match: MatchSerial}
	if base.Hash() != off.Hash() {
		t.Error("disabled managed settings changed the hash")
	}
	on := base
	on.Managed = Managed{State: All}
	same := base
	same.Managed = Managed{State: All, Platforms: []Platform{Windows, Linux, MacOS, Linux}, Match: MatchFingerprint}
	if on.Hash() == base.Hash() {
		t.Error("turning managed on did not change the hash")
	}
	if on.Hash() != same.Hash() {
		t.Error("defaults written out changed the hash")
	}
	serial := on
	serial.Managed.Match = MatchSerial
	groups := on
	groups.Managed = Managed{State: Groups, Groups: []string{"it"}}
	for name, p := range map[string]Policy{"match": serial, "groups": groups} {
		if p.Hash() == on.Hash() {
			t.Errorf("changing managed %s did not change the hash", name)
		}
	}
}

func TestManagedInScopeFollowsTheState(t *testing.T) {
	for _, tt := range []struct {
		m      Managed
		groups []string
		want   bool
	}{
		{Managed{}, []string{"staff"}, false},
		{Managed{State: Disabled}, []string{"staff"}, false},
		{Managed{State: All}, nil, true},
		{Managed{State: Groups, Groups: []string{"it"}}, []string{"staff"}, false},
		{Managed{State: Groups, Groups: []string{"it"}}, []string{"staff", "it"}, true},
	} {
		if got := tt.m.InScope(tt.groups); got != tt.want {
			t.Errorf("%+v.InScope(%v) = %v, want %v", tt.m, tt.groups, got, tt.want)
		}
	}
}
