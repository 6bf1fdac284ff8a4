package caddymodule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// adminGet gets path from the admin endpoint and returns the status and
// the body.
func adminGet(t *testing.T, path string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(adminURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// adminGetJSON gets path, wants a 200, and decodes the answer into out.
func adminGetJSON(t *testing.T, path string, out any) {
	t.Helper()
	status, body := adminGet(t, path)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		t.Fatalf("GET %s: answer is not JSON: %v\n%s", path, err, body)
	}
}

// adminError gets path and wants a 400 whose error mentions mention.
func adminBadRequest(t *testing.T, path, mention string) {
	t.Helper()
	status, body := adminGet(t, path)
	var out struct{ Error string }
	_ = json.Unmarshal(body, &out)
	if status != http.StatusBadRequest || !strings.Contains(out.Error, mention) {
		t.Errorf("GET %s: %d %s, want 400 mentioning %q", path, status, body, mention)
	}
}

// listedIDs lists devices through the admin API with query and returns
// their IDs and the next cursor.
func listedIDs(t *testing.T, query string) (ids []string, next string) {
	t.Helper()
	var page struct {
		Devices    []store.Device `json:"devices"`
		NextCursor string         `json:"next_cursor"`
	}
	adminGetJSON(t, "/trusted-endpoints/devices?"+query, &page)
	for _, d := range page.Devices {
		ids = append(ids, d.ID)
	}
	return ids, page.NextCursor
}

// seedDevice stores a device of user on platform, activated on osVersion
// and last seen at seen.
func seedDevice(t *testing.T, st store.Store, id, user, platform, osVersion string, seen time.Time) {
	t.Helper()
	err := st.CreateDevice(context.Background(), store.Device{
		ID: id, User: user, PublicKey: json.RawMessage(`{"kty":"EC"}`), Platform: platform,
		OSVersion: osVersion, Created: seen, LastSeen: seen,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// reportHealth records a health report of device id.
func reportHealth(t *testing.T, st store.Store, id string, facts policy.Facts, verdict policy.Status, at time.Time) {
	t.Helper()
	raw, err := json.Marshal(facts)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.RecordHealth(context.Background(), id, raw, string(verdict), at); err != nil {
		t.Fatal(err)
	}
}

func TestAdminListsDevicesByEveryFilter(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	day := time.Date(2026, time.May, 1, 0, 0, 0, 0, time.UTC)
	seedDevice(t, st, "dev-a", "alice", "ios", "17.4.1", day)
	seedDevice(t, st, "dev-b", "alice", "android", "13", day.Add(24*time.Hour))
	seedDevice(t, st, "dev-c", "bob", "ios", "16.7", day.Add(48*time.Hour))
	seedDevice(t, st, "dev-d", "bob", "android", "14", day.Add(72*time.Hour))
	seedDevice(t, st, "dev-e", "carol", "android", "9", day.Add(96*time.Hour))
	// dev-a reports iOS 18 now: the report's version counts, not the one
	// at activation.
	reportHealth(t, st, "dev-a", policy.Facts{Platform: policy.IOS, OSVersion: "18.1"}, policy.Trusted, day.Add(12*time.Hour))
	reportHealth(t, st, "dev-c", policy.Facts{Platform: policy.IOS, OSVersion: "16.7"}, policy.NotTrusted, day.Add(60*time.Hour))
	if err := st.RevokeDevice(context.Background(), "dev-e", day.Add(100*time.Hour)); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"dev-a", "dev-b", "dev-c", "dev-d"}},
		{"include_revoked=true", []string{"dev-a", "dev-b", "dev-c", "dev-d", "dev-e"}},
		{"user=bob", []string{"dev-c", "dev-d"}},
		{"platform=ios", []string{"dev-a", "dev-c"}},
		{"platform=Android&include_revoked=true", []string{"dev-b", "dev-d", "dev-e"}},
		{"trusted=true", []string{"dev-a"}},
		{"trusted=false", []string{"dev-b", "dev-c", "dev-d"}},
		{"os_older_than=ios:17", []string{"dev-c"}},
		{"os_older_than=ios:19", []string{"dev-a", "dev-c"}},
		{"platform=android&os_older_than=14", []string{"dev-b"}},
		{"os_older_than=ios:17&os_older_than=android:14.1&include_revoked=true", []string{"dev-b", "dev-c", "dev-d", "dev-e"}},
		{"seen_after=" + url.QueryEscape(day.Add(48*time.Hour).Format(time.RFC3339)), []string{"dev-c", "dev-d"}},
		{"seen_before=" + url.QueryEscape(day.Add(48*time.Hour).Format(time.RFC3339)), []string{"dev-a", "dev-b"}},
		{"seen_after=" + url.QueryEscape(day.Add(time.Hour).Format(time.RFC3339)) + "&seen_before=" + url.QueryEscape(day.Add(61*time.Hour).Format(time.RFC3339)), []string{"dev-a", "dev-b", "dev-c"}},
		{"user=alice&platform=android&trusted=false", []string{"dev-b"}},
		{"user=nobody", nil},
	} {
		if got, next := listedIDs(t, tt.query); !slices.Equal(got, tt.want) || next != "" {
			t.Errorf("devices?%s = %v (next %q), want %v and no next page", tt.query, got, next, tt.want)
		}
	}
}

func TestAdminDevicePagesStayStableUnderInserts(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	now := time.Now()
	originals := []string{"dev-1", "dev-3", "dev-5", "dev-7", "dev-9", "dev-b", "dev-d"}
	for _, id := range originals {
		seedDevice(t, st, id, "alice", "android", "14", now)
	}
	var listed []string
	query := "limit=3"
	for page := 0; ; page++ {
		ids, next := listedIDs(t, query)
		listed = append(listed, ids...)
		if next == "" {
			break
		}
		if next != ids[len(ids)-1] {
			t.Fatalf("next_cursor %q is not the page's last device %q", next, ids[len(ids)-1])
		}
		if page == 0 {
			// Between pages: one device before the cursor, one after it,
			// and a listed device reports (its last-seen time moves).
			seedDevice(t, st, "dev-0", "bob", "ios", "17", now)
			seedDevice(t, st, "dev-6", "bob", "ios", "17", now)
			reportHealth(t, st, "dev-3", policy.Facts{Platform: policy.Android, OSVersion: "14"}, policy.Trusted, now.Add(time.Minute))
		}
		query = "limit=3&cursor=" + url.QueryEscape(next)
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{"dev-1", "dev-3", "dev-5", "dev-6", "dev-7", "dev-9", "dev-b", "dev-d"}
	if !slices.Equal(listed, want) {
		t.Errorf("pages listed %v, want %v: each stored device once, the one inserted after the cursor too", listed, want)
	}
}

func TestAdminShowsDeviceWithHealthHistory(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	now := time.Now().UTC().Truncate(time.Second)
	seedDevice(t, st, "dev-h", "alice", "android", "14", now)
	reportHealth(t, st, "dev-h", policy.Facts{Platform: policy.Android, OSVersion: "14", ScreenLock: boolp(false)}, policy.NotTrusted, now.Add(time.Minute))
	reportHealth(t, st, "dev-h", policy.Facts{Platform: policy.Android, OSVersion: "15", ScreenLock: boolp(true)}, policy.Trusted, now.Add(2*time.Minute))

	var detail struct {
		Device        store.Device         `json:"device"`
		HealthHistory []store.HealthRecord `json:"health_history"`
	}
	adminGetJSON(t, "/trusted-endpoints/devices/dev-h", &detail)
	if detail.Device.ID != "dev-h" || detail.Device.User != "alice" || detail.Device.Verdict != "trusted" {
		t.Errorf("device = %+v", detail.Device)
	}
	if len(detail.HealthHistory) != 2 {
		t.Fatalf("history = %+v, want two reports", detail.HealthHistory)
	}
	newest, oldest := detail.HealthHistory[0], detail.HealthHistory[1]
	if !newest.At.Equal(now.Add(2*time.Minute)) || newest.Verdict != "trusted" || !strings.Contains(string(newest.Health), `"15"`) ||
		!oldest.At.Equal(now.Add(time.Minute)) || oldest.Verdict != "not trusted" {
		t.Errorf("history = %+v, want the two reports newest first", detail.HealthHistory)
	}
	adminGetJSON(t, "/trusted-endpoints/devices/dev-h?history_limit=1", &detail)
	if len(detail.HealthHistory) != 1 || detail.HealthHistory[0].Verdict != "trusted" {
		t.Errorf("history with history_limit=1 = %+v, want the newest report", detail.HealthHistory)
	}
	if _, body := adminGet(t, "/trusted-endpoints/devices/dev-h"); strings.Contains(strings.ToLower(string(body)), "passcode") {
		t.Errorf("the answer carries the device's passcode secret: %s", body)
	}
	if status, body := adminGet(t, "/trusted-endpoints/devices/no-such-device"); status != http.StatusNotFound || !strings.Contains(string(body), "no-such-device") {
		t.Errorf("unknown device: %d %s", status, body)
	}
	adminBadRequest(t, "/trusted-endpoints/devices/dev-h?history_limit=0", "history_limit")
}

func TestAdminDeviceRoutesRejectBadParameters(t *testing.T) {
	usersGateway(t, newUpstream(t), "")
	for _, tt := range []struct{ query, mention string }{
		{"platform=windows", "platform"},
		{"trusted=maybe", "trusted"},
		{"os_older_than=17", "os_older_than"},
		{"os_older_than=ios:", "os_older_than"},
		{"os_older_than=blackberry:10", "os_older_than"},
		{"seen_before=yesterday", "seen_before"},
		{"seen_after=2026-13-01T00:00:00Z", "seen_after"},
		{"include_revoked=yes", "include_revoked"},
		{"limit=0", "limit"},
		{"limit=1001", "limit"},
		{"limit=ten", "limit"},
		{"usr=alice", "usr"},
		{"user=alice&user=bob", "user"},
	} {
		adminBadRequest(t, "/trusted-endpoints/devices?"+tt.query, tt.mention)
	}
	resp, err := http.Post(adminURL+"/trusted-endpoints/devices", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /devices: %d, want 405", resp.StatusCode)
	}
}

func TestAdminRevokeMakesTheSessionOfTheDeviceCheckAgain(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	b, dev := trustedSession(t, "/rv")
	id := dev.DeviceID()

	// The real check left the device trusted, with one report in its
	// history, and listed among alice's trusted devices.
	var detail struct {
		Device        store.Device         `json:"device"`
		HealthHistory []store.HealthRecord `json:"health_history"`
	}
	adminGetJSON(t, "/trusted-endpoints/devices/"+url.PathEscape(id), &detail)
	if detail.Device.Verdict != "trusted" || len(detail.HealthHistory) != 1 || detail.HealthHistory[0].Verdict != "trusted" {
		t.Fatalf("device after its check: %+v, history %+v", detail.Device, detail.HealthHistory)
	}
	if ids, _ := listedIDs(t, "user=alice&trusted=true"); !slices.Contains(ids, id) {
		t.Fatalf("trusted devices of alice = %v, want %s among them", ids, id)
	}

	status, out := adminPost(t, "/trusted-endpoints/devices/"+url.PathEscape(id)+"/revoke", "")
	if status != http.StatusOK || out["id"] != id {
		t.Fatalf("revoke: %d %v", status, out)
	}
	// The very next request of the session it vouched for goes back to
	// the prompt.
	if r := b.get(gateURL + "/rv"); r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("next request after revocation: %d → %q, want the prompt", r.status, r.location)
	}
	if ids, _ := listedIDs(t, "user=alice"); slices.Contains(ids, id) {
		t.Errorf("active devices of alice = %v, still listing the revoked one", ids)
	}
	if ids, _ := listedIDs(t, "user=alice&include_revoked=true"); !slices.Contains(ids, id) {
		t.Errorf("devices of alice with revoked ones = %v, want %s", ids, id)
	}
}
