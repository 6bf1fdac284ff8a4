package dashboard

import (
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// TestDashboardImpactSplitsDesktops: the rollout impact page says how many
// desktop logins block would let in (trusted by a managed device) and
// keep out (would block).
func TestDashboardImpactSplitsDesktops(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	now := time.Now()
	for i, e := range []store.AuthLogEntry{
		{User: "alice", TrustStatus: "trusted", Integration: "managed", Factor: "managed_certificate"},
		{User: "alice", TrustStatus: "trusted", Integration: "managed", Factor: "managed_certificate"},
		{User: "bob", TrustStatus: "not trusted", WouldBlock: true, FailedRequirements: []string{"no_device_certificate"}},
	} {
		e.Time, e.Application, e.Result, e.Mode = now.Add(-time.Duration(i+1)*time.Minute), "wiki", store.ResultSuccess, "check"
		e.AccessDevice = store.AccessDevice{Kind: store.AccessKindDesktop, OS: "Windows"}
		if _, err := gw.st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	body := get(h, testAdmin, "GET", "/admin/impact").Body.String()
	for _, want := range []string{`id="desktops-let-in">2<`, `id="desktops-kept-out">1<`, "no_device_certificate"} {
		if !strings.Contains(body, want) {
			t.Errorf("the impact page lacks %q:\n%s", want, body)
		}
	}
}

// TestDashboardAuthLogShowsAndFiltersTheIntegration: the auth log shows
// each entry's integration and keeps one integration's entries.
func TestDashboardAuthLogShowsAndFiltersTheIntegration(t *testing.T) {
	t.Parallel()
	h, gw := newStoreDashboard(t)
	now := time.Now()
	for i, e := range []store.AuthLogEntry{
		{User: "alice", Integration: "managed"},
		{User: "bob", Integration: "mobile"},
		{User: "carol"},
	} {
		e.Time, e.Application, e.Result = now.Add(-time.Duration(i+1)*time.Minute), "wiki", store.ResultSuccess
		if _, err := gw.st.AppendAuthLog(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	body := get(h, testAdmin, "GET", "/admin/auth-log?integration=managed").Body.String()
	if !strings.Contains(body, `<td class="integration">managed</td>`) || strings.Contains(body, "bob") || strings.Contains(body, "carol") {
		t.Errorf("integration=managed:\n%s", body)
	}
	if rec := get(h, testAdmin, "GET", "/admin/auth-log?integration=sms"); rec.Code != 400 {
		t.Errorf("integration=sms = %d", rec.Code)
	}
}
