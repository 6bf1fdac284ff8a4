package caddymodule

import (
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
)

func TestAdminRolloutImpactCountsWouldBlockLogins(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	day := time.Date(2026, time.July, 1, 0, 0, 0, 0, time.UTC)
	wouldBlock := func(at time.Time, user, app, os string, groups []string, failed ...string) store.AuthLogEntry {
		return store.AuthLogEntry{Time: at, User: user, Groups: groups, Application: app, Result: store.ResultSuccess,
			Reason: "user_approved", TrustStatus: "not trusted", Mode: "check", WouldBlock: true,
			FailedRequirements: failed, AccessDevice: store.AccessDevice{OS: os}}
	}
	trusted := store.AuthLogEntry{Time: day, User: "erin", Application: "wiki", Result: store.ResultSuccess, TrustStatus: "trusted", Mode: "check"}
	seedAuthLog(t, st,
		wouldBlock(day, "alice", "wiki", "Android", []string{"staff", "pilot"}, "no_screen_lock"),
		wouldBlock(day.Add(time.Hour), "alice", "wiki", "Android", []string{"staff", "pilot"}, "no_screen_lock", "out_of_date"),
		wouldBlock(day.Add(2*time.Hour), "bob", "crm", "Windows", []string{"staff"}, "unsupported_platform"),
		wouldBlock(day.Add(48*time.Hour), "carol", "wiki", "iOS", []string{"staff"}, "version_restricted"), // outside the window
		trusted,
	)
	window := "since=" + url.QueryEscape(day.Format(time.RFC3339)) + "&until=" + url.QueryEscape(day.Add(24*time.Hour).Format(time.RFC3339))
	var got adminapi.RolloutImpactAnswer
	adminGetJSON(t, "/trusted-endpoints/rollout-impact?"+window, &got)
	want := adminapi.RolloutImpactAnswer{
		Since: day, Until: day.Add(24 * time.Hour),
		RolloutImpact: store.RolloutImpact{
			Logins: 3, Users: 2,
			ByReason: []store.ImpactCount{
				{Key: "no_screen_lock", Logins: 2, Users: 1},
				{Key: "out_of_date", Logins: 1, Users: 1},
				{Key: "unsupported_platform", Logins: 1, Users: 1},
			},
			ByGroup: []store.ImpactCount{
				{Key: "staff", Logins: 3, Users: 2},
				{Key: "pilot", Logins: 2, Users: 1},
			},
			ByPlatform: []store.ImpactCount{
				{Key: "Android", Logins: 2, Users: 1},
				{Key: "Windows", Logins: 1, Users: 1},
			},
			ByApplication: []store.ImpactCount{
				{Key: "wiki", Logins: 2, Users: 1},
				{Key: "crm", Logins: 1, Users: 1},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rollout impact =\n%+v\nwant\n%+v", got, want)
	}

	adminGetJSON(t, "/trusted-endpoints/rollout-impact?"+window+"&application=crm", &got)
	if got.Application != "crm" || got.Logins != 1 || got.Users != 1 || got.ByApplication[0].Key != "crm" {
		t.Errorf("rollout impact of crm = %+v, want bob's one login", got)
	}
	// Without a window: the last seven days, which hold none of these.
	adminGetJSON(t, "/trusted-endpoints/rollout-impact", &got)
	if got.Logins != 0 || got.ByReason == nil || got.Until.Sub(got.Since) != 7*24*time.Hour {
		t.Errorf("rollout impact of the last week = %+v", got)
	}

	for _, tt := range []struct{ query, mention string }{
		{"since=monday", "since"},
		{"until=1719792000", "until"},
		{"since=2026-07-02T00:00:00Z&until=2026-07-01T00:00:00Z", "since"},
		{"app=crm", "app"},
	} {
		adminBadRequest(t, "/trusted-endpoints/rollout-impact?"+tt.query, tt.mention)
	}
}
