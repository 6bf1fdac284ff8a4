package caddymodule

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/whatif"
)

// whatIfGateway starts a gateway with one application per policy the
// what-if tests need, and returns its store.
func whatIfGateway(t *testing.T) store.Store {
	t.Helper()
	dbPath := storePath(t)
	users := gatetest.WriteUsersFile(t)
	up := newUpstream(t)
	mobile := `mobile {
				enable groups pilot
				platforms android
				require screen_lock
				warn biometrics
			}`
	site := func(path, app, mode, settings string) string {
		return fmt.Sprintf(`
	handle /%s/* {
		trusted_endpoints {
			application %s
			login users_file %s
			mode %s
			%s
		}
		reverse_proxy %s
	}`, path, app, users, mode, settings, up.hostPort())
	}
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf("http://localhost:%d {", httpPort)+
		site("off", "off-app", "off", "")+
		site("disabled", "disabled-app", "block", "")+
		site("check", "check-app", "check", mobile)+
		site("block", "block-app", "block", mobile)+"\n}\n")
	return runningState(t, dbPath).Store()
}

// whatIf asks the admin API and returns the status and the answer.
func whatIf(t *testing.T, body string) (int, adminapi.WhatIfAnswer, string) {
	t.Helper()
	resp, err := http.Post(adminURL+"/trusted-endpoints/what-if", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out adminapi.WhatIfAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("what-if answer is not JSON: %v\n%s", err, raw)
		}
	}
	return resp.StatusCode, out, string(raw)
}

func TestAdminWhatIfAnswersEachBranchOfTheFlow(t *testing.T) {
	st := whatIfGateway(t)
	now := time.Now()
	seedDevice(t, st, "alice-healthy", "alice", "android", "14", now)
	reportHealth(t, st, "alice-healthy", policy.Facts{Platform: policy.Android, OSVersion: "14", ScreenLock: boolp(true), Biometrics: boolp(true)}, policy.Trusted, now)
	seedDevice(t, st, "alice-unlocked", "alice", "android", "14", now.Add(-time.Hour))
	reportHealth(t, st, "alice-unlocked", policy.Facts{Platform: policy.Android, OSVersion: "14", ScreenLock: boolp(false), Biometrics: boolp(true)}, policy.NotTrusted, now.Add(-time.Hour))
	seedDevice(t, st, "alice-nobio", "alice", "android", "14", now.Add(-2*time.Hour))
	reportHealth(t, st, "alice-nobio", policy.Facts{Platform: policy.Android, OSVersion: "14", ScreenLock: boolp(true), Biometrics: boolp(false)}, policy.Trusted, now.Add(-2*time.Hour))
	seedDevice(t, st, "bob-phone", "bob", "android", "14", now)
	// dave's groups come from his latest login.
	seedAuthLog(t, st, store.AuthLogEntry{Time: now, User: "dave", Groups: []string{"pilot"}, Result: store.ResultSuccess})

	pilot := `"groups": ["pilot"]`
	for _, tt := range []struct {
		name, body string
		outcome    string
		status     policy.Status
		wouldBlock bool
		reasons    []string
		warnings   int
	}{
		{"mode off: no check", `{"user": "alice", "application": "off-app", "device_id": "alice-unlocked"}`,
			whatif.Allow, "", false, []string{}, 0},
		{"integration disabled", `{"user": "alice", ` + pilot + `, "application": "disabled-app", "device_id": "alice-healthy"}`,
			whatif.Deny, policy.Unknown, false, []string{"device_check_not_enabled"}, 0},
		{"not in the rollout group, block", `{"user": "bob", "groups": ["staff"], "application": "block-app", "device_id": "bob-phone"}`,
			whatif.Deny, policy.Unknown, false, []string{"device_check_not_enabled"}, 0},
		{"not in the rollout group, check", `{"user": "bob", "groups": ["staff"], "application": "check-app"}`,
			whatif.Allow, policy.Unknown, true, []string{"device_check_not_enabled"}, 0},
		{"desktop browser", `{"user": "alice", ` + pilot + `, "application": "block-app", "device_id": "alice-healthy", "access_platform": "desktop"}`,
			whatif.Deny, policy.NotTrusted, false, []string{"unsupported_platform"}, 0},
		{"platform not enabled", `{"user": "alice", ` + pilot + `, "application": "check-app", "access_platform": "ios"}`,
			whatif.Allow, policy.NotTrusted, true, []string{"unsupported_platform"}, 0},
		{"no activated device, block", `{"user": "carol", ` + pilot + `, "application": "block-app", "access_platform": "android"}`,
			whatif.Deny, policy.NotTrusted, false, []string{"no_activated_mobile_app"}, 0},
		{"no activated device, check", `{"user": "carol", ` + pilot + `, "application": "check-app", "access_platform": "android"}`,
			whatif.Allow, policy.NotTrusted, true, []string{"no_activated_mobile_app"}, 0},
		{"trusted device", `{"user": "alice", ` + pilot + `, "application": "block-app", "device_id": "alice-healthy"}`,
			whatif.Allow, policy.Trusted, false, []string{}, 0},
		{"latest device by default", `{"user": "alice", ` + pilot + `, "application": "block-app"}`,
			whatif.Allow, policy.Trusted, false, []string{}, 0},
		{"failing device, check", `{"user": "alice", ` + pilot + `, "application": "check-app", "device_id": "alice-unlocked"}`,
			whatif.Allow, policy.NotTrusted, true, []string{"no_screen_lock"}, 0},
		{"failing device, block", `{"user": "alice", ` + pilot + `, "application": "block-app", "device_id": "alice-unlocked"}`,
			whatif.Deny, policy.NotTrusted, false, []string{"no_screen_lock"}, 0},
		{"warn requirement", `{"user": "alice", ` + pilot + `, "application": "block-app", "device_id": "alice-nobio"}`,
			whatif.Allow, policy.Trusted, false, []string{}, 1},
		{"given facts", `{"user": "alice", ` + pilot + `, "application": "block-app", "device_id": "alice-healthy",
			"facts": {"platform": "android", "os_version": "14", "screen_lock": false, "biometrics": true}}`,
			whatif.Deny, policy.NotTrusted, false, []string{"no_screen_lock"}, 0},
		{"groups from the auth log", `{"user": "dave", "application": "block-app",
			"facts": {"platform": "android", "os_version": "14", "screen_lock": true, "biometrics": true}}`,
			whatif.Allow, policy.Trusted, false, []string{}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, got, raw := whatIf(t, tt.body)
			if status != http.StatusOK {
				t.Fatalf("what-if: %d %s", status, raw)
			}
			if got.Outcome != tt.outcome || got.Status != tt.status || got.WouldBlock != tt.wouldBlock ||
				!slices.Equal(got.Reasons, tt.reasons) || len(got.Warnings) != tt.warnings || got.Explanation == "" {
				t.Errorf("what-if = %s\nwant outcome %s, status %q, would_block %v, reasons %v, %d warnings",
					raw, tt.outcome, tt.status, tt.wouldBlock, tt.reasons, tt.warnings)
			}
		})
	}

	_, got, _ := whatIf(t, `{"user": "alice", `+pilot+`, "application": "block-app"}`)
	if got.DeviceID != "alice-healthy" || got.GroupsSource != "request" || got.Mode != policy.ModeBlock {
		t.Errorf("default device answer = %+v, want alice's latest device, groups from the request, mode block", got)
	}
	_, got, _ = whatIf(t, `{"user": "dave", "application": "block-app", "facts": {"platform": "android"}}`)
	if got.GroupsSource != "auth_log" || !slices.Equal(got.Groups, []string{"pilot"}) {
		t.Errorf("groups = %v from %q, want dave's from the auth log", got.Groups, got.GroupsSource)
	}
	_, got, _ = whatIf(t, `{"user": "erin", "application": "block-app"}`)
	if got.GroupsSource != "none" || len(got.Groups) != 0 || !slices.Equal(got.Reasons, []string{"device_check_not_enabled"}) {
		t.Errorf("unknown user: %+v, want no groups and so no check", got)
	}
}

func TestAdminWhatIfRejectsBadRequests(t *testing.T) {
	st := whatIfGateway(t)
	seedDevice(t, st, "bob-phone", "bob", "android", "14", time.Now())
	for _, tt := range []struct {
		body    string
		status  int
		mention string
	}{
		{`{"application": "block-app"}`, http.StatusBadRequest, "user"},
		{`{"user": "alice"}`, http.StatusBadRequest, "application"},
		{`{"user": "alice", "application": "nope"}`, http.StatusBadRequest, `application: no site of the running configuration protects "nope" (known: block-app, check-app, disabled-app, off-app`},
		{`{"user": "alice", "application": "block-app", "device_id": "missing"}`, http.StatusNotFound, "device_id"},
		{`{"user": "alice", "application": "block-app", "device_id": "bob-phone"}`, http.StatusBadRequest, "device_id"},
		{`{"user": "alice", "application": "block-app", "facts": {"screen_lok": true}}`, http.StatusBadRequest, "facts"},
		{`{"user": "alice", "application": "block-app", "facts": "healthy"}`, http.StatusBadRequest, "facts"},
		{`{"user": "alice", "application": "block-app", "access_platform": "symbian"}`, http.StatusBadRequest, "access_platform"},
		{`{"user": "alice", "application": "block-app", "device": "x"}`, http.StatusBadRequest, `"device"`},
		{`not json`, http.StatusBadRequest, "decoding request"},
	} {
		status, _, raw := whatIf(t, tt.body)
		var out struct{ Error string }
		_ = json.Unmarshal([]byte(raw), &out)
		if status != tt.status || !strings.Contains(out.Error, tt.mention) {
			t.Errorf("%s: %d %s, want %d mentioning %q", tt.body, status, raw, tt.status, tt.mention)
		}
	}
	if status, _ := adminGet(t, "/trusted-endpoints/what-if"); status != http.StatusMethodNotAllowed {
		t.Errorf("GET what-if: %d, want 405", status)
	}
}

// The what-if answer and the real login agree: a device the live flow
// trusts is trusted by what-if, and one it refuses is refused for the same
// reasons.
func TestAdminWhatIfAgreesWithTheLiveFlow(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	_, dev := trustedSession(t, "/wi")
	live := lastLog(t, "alice")
	_, got, raw := whatIf(t, `{"user": "alice", "application": "legacy", "device_id": "`+dev.DeviceID()+`"}`)
	if live.Result != store.ResultSuccess || got.Outcome != whatif.Allow || string(got.Status) != live.TrustStatus {
		t.Errorf("live login %s (%s), what-if %s", live.Result, live.TrustStatus, raw)
	}

	// The same device fails its next check without a screen lock.
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	facts := gatetest.Healthy()
	facts.ScreenLock = boolp(false)
	rep, _ := inlineCheck(t, dev, openPrompt(t, b, "alice", "/wi2"), facts, protocol.AnswerApprove)
	if rep.State != store.TransactionDenied {
		t.Fatalf("report without a screen lock: %+v, want denied", rep)
	}
	live = lastLog(t, "alice")
	_, got, raw = whatIf(t, `{"user": "alice", "application": "legacy", "device_id": "`+dev.DeviceID()+`"}`)
	if live.Result != store.ResultDenied || got.Outcome != whatif.Deny || string(got.Reason) != live.Reason ||
		!slices.Equal(got.Reasons, live.FailedRequirements) {
		t.Errorf("live login %s %s %v, what-if %s", live.Result, live.Reason, live.FailedRequirements, raw)
	}
}
