package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// wouldBlock returns a would-block entry of user at at.
func wouldBlock(at time.Time, user, app, os string, groups []string, failed ...string) store.AuthLogEntry {
	return store.AuthLogEntry{
		Time: at, User: user, Groups: groups, Application: app, Result: store.ResultSuccess,
		Reason: "user_approved", Factor: "mobile_inline", TrustStatus: "not trusted", Mode: "check",
		WouldBlock: true, FailedRequirements: failed, AccessDevice: store.AccessDevice{OS: os},
	}
}

func (s suite) rolloutImpactCountsWouldBlockLogins(t *testing.T) {
	st := s.newStore(t)
	entries := []store.AuthLogEntry{
		wouldBlock(base, "alice", "wiki", "Android", []string{"staff", "eng"}, "no_screen_lock", "out_of_date"),
		wouldBlock(base.Add(time.Minute), "alice", "wiki", "Android", []string{"staff", "eng"}, "no_screen_lock"),
		wouldBlock(base.Add(2*time.Minute), "bob", "crm", "Windows", []string{"staff"}, "unsupported_platform"),
		// No failed requirement: counted under its reason. No groups: "".
		wouldBlock(base.Add(3*time.Minute), "carol", "wiki", "", nil),
		// Outside the window.
		wouldBlock(base.Add(-time.Minute), "dave", "wiki", "iOS", nil, "no_screen_lock"),
		wouldBlock(base.Add(time.Hour), "dave", "wiki", "iOS", nil, "no_screen_lock"),
	}
	entries[3].Reason = "endpoint_is_not_trusted"
	// Not would-block: a trusted login and a denial in block mode.
	trusted := wouldBlock(base, "erin", "wiki", "iOS", nil)
	trusted.WouldBlock, trusted.TrustStatus = false, "trusted"
	denied := wouldBlock(base, "frank", "wiki", "iOS", nil, "no_screen_lock")
	denied.WouldBlock, denied.Result, denied.Mode = false, store.ResultDenied, "block"
	for _, e := range append(entries, trusted, denied) {
		if _, err := st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatalf("AppendAuthLog: %v", err)
		}
	}
	got, err := st.RolloutImpact(t.Context(), store.RolloutQuery{Since: base, Until: base.Add(time.Hour)})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	want := store.RolloutImpact{
		Logins: 4, Users: 3,
		ByReason: []store.ImpactCount{
			{Key: "no_screen_lock", Logins: 2, Users: 1},
			{Key: "endpoint_is_not_trusted", Logins: 1, Users: 1},
			{Key: "out_of_date", Logins: 1, Users: 1},
			{Key: "unsupported_platform", Logins: 1, Users: 1},
		},
		ByGroup: []store.ImpactCount{
			{Key: "staff", Logins: 3, Users: 2},
			{Key: "eng", Logins: 2, Users: 1},
			{Key: "", Logins: 1, Users: 1},
		},
		ByPlatform: []store.ImpactCount{
			{Key: "Android", Logins: 2, Users: 1},
			{Key: "", Logins: 1, Users: 1},
			{Key: "Windows", Logins: 1, Users: 1},
		},
		ByApplication: []store.ImpactCount{
			{Key: "wiki", Logins: 3, Users: 2},
			{Key: "crm", Logins: 1, Users: 1},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RolloutImpact =\n%+v\nwant\n%+v", got, want)
	}

	got, err = st.RolloutImpact(t.Context(), store.RolloutQuery{Application: "crm"})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	if got.Logins != 1 || got.Users != 1 || len(got.ByApplication) != 1 || got.ByApplication[0].Key != "crm" {
		t.Errorf("RolloutImpact of crm = %+v, want bob's one login", got)
	}
	got, err = st.RolloutImpact(t.Context(), store.RolloutQuery{})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	if got.Logins != 6 || got.Users != 4 {
		t.Errorf("RolloutImpact without a window: %d logins of %d users, want 6 of 4", got.Logins, got.Users)
	}
}

func (s suite) rolloutImpactOfEmptyLogIsZero(t *testing.T) {
	st := s.newStore(t)
	got, err := st.RolloutImpact(t.Context(), store.RolloutQuery{})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	if got.Logins != 0 || got.Users != 0 || got.ByReason == nil || len(got.ByReason) != 0 {
		t.Errorf("RolloutImpact of an empty log = %+v, want zero counts and empty (not nil) breakdowns", got)
	}
}

func (s suite) rolloutImpactCountsPeopleTheAccessRulesRefuseApart(t *testing.T) {
	st := s.newStore(t)
	entries := []store.AuthLogEntry{
		wouldBlock(base, "alice", "wiki", "Android", []string{"pilot"}, "no_screen_lock"),
		wouldBlock(base.Add(time.Minute), "bob", "wiki", "Windows", []string{"staff"}, "unsupported_platform"),
		wouldBlock(base.Add(2*time.Minute), "bob", "wiki", "Windows", []string{"staff"}, "unsupported_platform"),
		wouldBlock(base.Add(3*time.Minute), "carol", "wiki", "iOS", nil, "no_screen_lock"),
	}
	entries[3].Email = "Carol@Example.org"
	for _, e := range entries {
		if _, err := st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatalf("AppendAuthLog: %v", err)
		}
	}
	// The rules let pilots in, and carol by her email (which the store
	// must hand over as it was logged).
	var seen []string
	authorized := func(e store.AuthLogEntry) bool {
		seen = append(seen, e.User+"|"+e.Email+"|"+e.Application)
		return slices.Contains(e.Groups, "pilot") || e.Email == "Carol@Example.org"
	}
	got, err := st.RolloutImpact(t.Context(), store.RolloutQuery{Authorized: authorized})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	if got.Logins != 2 || got.Users != 2 || got.NotAuthorized != (store.ImpactTotal{Logins: 2, Users: 1}) {
		t.Errorf("RolloutImpact = %d logins of %d users, not authorized %+v; want 2 of 2, and bob's 2 logins apart", got.Logins, got.Users, got.NotAuthorized)
	}
	for _, line := range got.ByPlatform {
		if line.Key == "Windows" {
			t.Errorf("a refused person's login is counted by platform: %+v", got.ByPlatform)
		}
	}
	if !slices.Contains(seen, "carol|Carol@Example.org|wiki") || len(seen) != 4 {
		t.Errorf("Authorized saw %q, want every entry with its user, email and application", seen)
	}
	got, err = st.RolloutImpact(t.Context(), store.RolloutQuery{})
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	if got.Logins != 4 || got.NotAuthorized != (store.ImpactTotal{}) {
		t.Errorf("RolloutImpact without rules = %d logins, not authorized %+v; want 4 and none", got.Logins, got.NotAuthorized)
	}
}

func (s suite) rolloutImpactSplitsDesktopsBlockWouldLetInOrKeepOut(t *testing.T) {
	st := s.newStore(t)
	desktop := func(e store.AuthLogEntry) store.AuthLogEntry {
		e.AccessDevice.Kind = store.AccessKindDesktop
		return e
	}
	trusted := func(e store.AuthLogEntry) store.AuthLogEntry {
		e.WouldBlock, e.TrustStatus, e.FailedRequirements = false, "trusted", nil
		e.Factor, e.Integration = "managed_certificate", "managed"
		return e
	}
	entries := []store.AuthLogEntry{
		// Kept out: two would-block desktop logins of bob, one of carol.
		desktop(wouldBlock(base, "bob", "wiki", "Windows", nil, "no_device_certificate")),
		desktop(wouldBlock(base.Add(time.Minute), "bob", "wiki", "Windows", nil, "no_device_certificate")),
		desktop(wouldBlock(base.Add(2*time.Minute), "carol", "wiki", "macOS", nil, "not_managed")),
		// Let in: two trusted desktop logins of alice, one of dave.
		trusted(desktop(wouldBlock(base, "alice", "wiki", "Windows", nil))),
		trusted(desktop(wouldBlock(base.Add(time.Minute), "alice", "wiki", "Windows", nil))),
		trusted(desktop(wouldBlock(base.Add(time.Minute), "dave", "crm", "Linux", nil))),
		// Neither: a would-block phone, a trusted phone, a trusted
		// desktop in mode block (block changes nothing for it), a
		// not-trusted desktop in mode check that is not would-block
		// (mode off has none), and a trusted desktop outside the window.
		wouldBlock(base, "erin", "wiki", "Android", nil, "no_screen_lock"),
		trusted(wouldBlock(base, "erin", "wiki", "Android", nil)),
		func() store.AuthLogEntry {
			e := trusted(desktop(wouldBlock(base, "frank", "wiki", "Windows", nil)))
			e.Mode = "block"
			return e
		}(),
		func() store.AuthLogEntry {
			e := desktop(wouldBlock(base, "gina", "wiki", "Windows", nil))
			e.WouldBlock = false
			return e
		}(),
		trusted(desktop(wouldBlock(base.Add(-time.Minute), "hal", "wiki", "Windows", nil))),
	}
	for _, e := range entries {
		if _, err := st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatalf("AppendAuthLog: %v", err)
		}
	}
	window := store.RolloutQuery{Since: base, Until: base.Add(time.Hour)}
	got, err := st.RolloutImpact(t.Context(), window)
	if err != nil {
		t.Fatalf("RolloutImpact: %v", err)
	}
	want := store.DesktopImpact{LetIn: store.ImpactTotal{Logins: 3, Users: 2}, KeptOut: store.ImpactTotal{Logins: 3, Users: 2}}
	if got.Desktops != want || got.Logins != 4 {
		t.Errorf("RolloutImpact: %d logins, desktops %+v; want 4 logins, desktops %+v", got.Logins, got.Desktops, want)
	}
	window.Application = "crm"
	if got, err = st.RolloutImpact(t.Context(), window); err != nil || got.Desktops != (store.DesktopImpact{LetIn: store.ImpactTotal{Logins: 1, Users: 1}}) {
		t.Errorf("RolloutImpact of crm: desktops %+v, %v; want dave's one login let in", got.Desktops, err)
	}
	// A person the access rules refuse counts on neither side.
	window.Application = ""
	window.Authorized = func(e store.AuthLogEntry) bool { return e.User != "alice" && e.User != "bob" }
	if got, err = st.RolloutImpact(t.Context(), window); err != nil ||
		got.Desktops != (store.DesktopImpact{LetIn: store.ImpactTotal{Logins: 1, Users: 1}, KeptOut: store.ImpactTotal{Logins: 1, Users: 1}}) {
		t.Errorf("RolloutImpact with rules refusing alice and bob: desktops %+v, %v; want dave in and carol out", got.Desktops, err)
	}
}
