package caddymodule

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store"
)

// accessSitesGateway starts two applications: pilots-app (mode block, the
// mobile check for everyone, allow groups pilot and carol's address) and
// open-app (mode check, no allow). It returns the store.
func accessSitesGateway(t *testing.T) store.Store {
	t.Helper()
	dbPath, users, up := storePath(t), gatetest.WriteUsersFile(t), newUpstream(t)
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%d {
	handle /pilots/* {
		trusted_endpoints {
			application pilots-app
			login users_file %s
			mode block
			mobile {
				enable all
			}
			allow groups pilot
			allow emails carol@example.org
		}
		reverse_proxy %s
	}
	handle /open/* {
		trusted_endpoints {
			application open-app
			login users_file %s
			mode check
			mobile {
				enable all
			}
		}
		reverse_proxy %s
	}
}
`, httpPort, users, up.hostPort(), users, up.hostPort()))
	return runningState(t, dbPath).Store()
}

func TestAdminWhatIfAnswersNotAuthorizedForPeopleTheRulesRefuse(t *testing.T) {
	st := accessSitesGateway(t)
	// bob's groups and email come from his latest login.
	seedAuthLog(t, st, store.AuthLogEntry{Time: time.Now(), User: "bob", Email: "bob@example.com", Groups: []string{"staff"},
		Application: "open-app", Result: store.ResultSuccess, Reason: "user_approved"})

	tests := []struct {
		name, body    string
		notAuthorized bool
		outcome       string
	}{
		{"groups and email from the auth log", `{"user":"bob","application":"pilots-app"}`, true, whatIfDeny},
		{"groups given", `{"user":"bob","application":"pilots-app","groups":["staff"]}`, true, whatIfDeny},
		{"in an allowed group", `{"user":"bob","application":"pilots-app","groups":["pilot"]}`, false, whatIfDeny},
		{"allowed email, any case", `{"user":"bob","application":"pilots-app","email":"Carol@Example.org"}`, false, whatIfDeny},
		{"no rules", `{"user":"bob","application":"open-app"}`, false, "allow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got, raw := whatIf(t, tt.body)
			if status != http.StatusOK {
				t.Fatalf("what-if: %d %s", status, raw)
			}
			if (got.Reason == policy.ReasonNotAuthorized) != tt.notAuthorized || got.Outcome != tt.outcome {
				t.Errorf("what-if %s = outcome %s reason %q; want outcome %s, not_authorized %v\n%s", tt.body, got.Outcome, got.Reason, tt.outcome, tt.notAuthorized, raw)
			}
		})
	}
	_, got, _ := whatIf(t, `{"user":"bob","application":"pilots-app"}`)
	if got.Email != "bob@example.com" || got.EmailSource != "auth_log" || got.GroupsSource != "auth_log" {
		t.Errorf("what-if assumed email %q (%s), groups %q (%s); want bob's from the auth log", got.Email, got.EmailSource, got.Groups, got.GroupsSource)
	}
	if len(got.Reasons) != 1 || got.Reasons[0] != "not_authorized" || got.Explanation == "" {
		t.Errorf("what-if of a refused person: reasons %q, explanation %q", got.Reasons, got.Explanation)
	}
}

// whatIfDeny is the what-if outcome of a refusal.
const whatIfDeny = "deny"

func TestAdminRolloutImpactCountsPeopleTheRulesRefuseApart(t *testing.T) {
	st := accessSitesGateway(t)
	day := time.Date(2026, time.July, 1, 0, 0, 0, 0, time.UTC)
	wouldBlock := func(at time.Time, user, email, app string, groups []string) store.AuthLogEntry {
		return store.AuthLogEntry{Time: at, User: user, Email: email, Groups: groups, Application: app, Result: store.ResultSuccess,
			Reason: "user_approved", TrustStatus: "not trusted", Mode: "check", WouldBlock: true,
			FailedRequirements: []string{"unsupported_platform"}, AccessDevice: store.AccessDevice{OS: "Windows"}}
	}
	// Logged while pilots-app was in mode check without rules.
	seedAuthLog(t, st,
		wouldBlock(day, "alice", "alice@example.com", "pilots-app", []string{"pilot"}),
		wouldBlock(day.Add(time.Minute), "bob", "bob@example.com", "pilots-app", []string{"staff"}),
		wouldBlock(day.Add(2*time.Minute), "bob", "bob@example.com", "pilots-app", []string{"staff"}),
		wouldBlock(day.Add(3*time.Minute), "carol", "CAROL@example.org", "pilots-app", nil),
		// open-app has no rules: bob counts there.
		wouldBlock(day.Add(4*time.Minute), "bob", "bob@example.com", "open-app", []string{"staff"}),
	)
	window := "since=" + url.QueryEscape(day.Format(time.RFC3339)) + "&until=" + url.QueryEscape(day.Add(time.Hour).Format(time.RFC3339))
	var got adminapi.RolloutImpactAnswer
	adminGetJSON(t, "/trusted-endpoints/rollout-impact?"+window, &got)
	if got.Logins != 3 || got.Users != 3 || got.NotAuthorized != (store.ImpactTotal{Logins: 2, Users: 1}) {
		t.Errorf("rollout impact = %d logins of %d users, not authorized %+v; want 3 of 3 (alice, carol, bob on open-app) and bob's 2 pilots-app logins apart",
			got.Logins, got.Users, got.NotAuthorized)
	}
	for _, line := range got.ByApplication {
		if line.Key == "pilots-app" && line.Logins != 2 {
			t.Errorf("pilots-app counts %d would-block logins, want 2 (bob's are not the device policy's)", line.Logins)
		}
	}
}
