package caddymodule

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/adminapi"
	"github.com/trustgate/trustgate/prompt/store"
)

// seedAuthLog appends entries in order and returns their IDs.
func seedAuthLog(t *testing.T, st store.Store, entries ...store.AuthLogEntry) []int64 {
	t.Helper()
	ids := make([]int64, len(entries))
	for i, e := range entries {
		id, err := st.AppendAuthLog(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = id
	}
	return ids
}

// authLogPageOf queries the auth log and returns the entries' users (as
// their IDs, for the tests that name entries by user) and the next cursor.
func authLogPageOf(t *testing.T, query string) (users []string, next string) {
	t.Helper()
	var page struct {
		Entries    []store.AuthLogEntry `json:"entries"`
		NextCursor string               `json:"next_cursor"`
	}
	adminGetJSON(t, "/trusted-endpoints/auth-log?"+query, &page)
	for _, e := range page.Entries {
		users = append(users, e.User)
	}
	return users, page.NextCursor
}

func TestAdminAuthLogFiltersByEveryField(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	day := time.Date(2026, time.June, 1, 0, 0, 0, 0, time.UTC)
	entry := func(user string, at time.Time, e store.AuthLogEntry) store.AuthLogEntry {
		e.User, e.Time = user, at
		return e
	}
	// Users name the entries: u1 is the oldest.
	seedAuthLog(t, st,
		entry("u1", day, store.AuthLogEntry{Application: "wiki", Result: "success", Reason: "user_approved", Factor: "mobile_inline", TrustStatus: "trusted", Mode: "block"}),
		entry("u2", day.Add(time.Hour), store.AuthLogEntry{Application: "wiki", Result: "denied", Reason: "endpoint_is_not_trusted", Factor: "mobile_inline", TrustStatus: "not trusted", Mode: "block", FailedRequirements: []string{"no_screen_lock"}}),
		entry("u3", day.Add(2*time.Hour), store.AuthLogEntry{Application: "crm", Result: "success", Reason: "user_approved", Factor: "passcode", TrustStatus: "not trusted", Mode: "check", WouldBlock: true}),
		entry("u4", day.Add(3*time.Hour), store.AuthLogEntry{Application: "crm", Result: "denied", Reason: "invalid_password", Factor: "password"}),
		entry("u5", day.Add(4*time.Hour), store.AuthLogEntry{Application: "crm", Result: "error", Reason: "invalid_state", Factor: "oidc", TrustStatus: "unknown"}),
	)
	at := func(d time.Duration) string { return url.QueryEscape(day.Add(d).Format(time.RFC3339)) }
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"u5", "u4", "u3", "u2", "u1"}},
		{"user=u3", []string{"u3"}},
		{"application=wiki", []string{"u2", "u1"}},
		{"result=denied", []string{"u4", "u2"}},
		{"reason=user_approved", []string{"u3", "u1"}},
		{"factor=mobile_inline", []string{"u2", "u1"}},
		{"trust_status=" + url.QueryEscape("not trusted"), []string{"u3", "u2"}},
		{"trust_status=unknown", []string{"u5"}},
		{"would_block=true", []string{"u3"}},
		{"since=" + at(2*time.Hour), []string{"u5", "u4", "u3"}},
		{"until=" + at(2*time.Hour), []string{"u2", "u1"}},
		{"since=" + at(time.Hour) + "&until=" + at(3*time.Hour), []string{"u3", "u2"}},
		{"application=crm&result=denied", []string{"u4"}},
		{"format=json&user=u1", []string{"u1"}},
		{"user=nobody", nil},
	} {
		if got, next := authLogPageOf(t, tt.query); !slices.Equal(got, tt.want) || next != "" {
			t.Errorf("auth-log?%s = %v (next %q), want %v and no next page", tt.query, got, next, tt.want)
		}
	}
}

func TestAdminAuthLogPagesStayStableUnderInserts(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	now := time.Now()
	var originals []store.AuthLogEntry
	for i := range 7 {
		originals = append(originals, store.AuthLogEntry{Time: now, User: "old-" + strconv.Itoa(i), Result: "success"})
	}
	seedAuthLog(t, st, originals...)
	var listed []string
	query := "limit=3"
	for page := 0; ; page++ {
		users, next := authLogPageOf(t, query)
		listed = append(listed, users...)
		if next == "" {
			break
		}
		// Logins go on while the admin pages: new entries are newer than
		// any cursor and never push an older one onto the next page.
		seedAuthLog(t, st, store.AuthLogEntry{Time: now, User: "new-" + strconv.Itoa(page), Result: "success"})
		query = "limit=3&cursor=" + next
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	want := []string{"old-6", "old-5", "old-4", "old-3", "old-2", "old-1", "old-0"}
	if !slices.Equal(listed, want) {
		t.Errorf("pages listed %v, want %v", listed, want)
	}
	// The older name of the cursor still works.
	if users, _ := authLogPageOf(t, "user=old-0&before=999999999"); !slices.Equal(users, []string{"old-0"}) {
		t.Errorf("before= cursor: %v", users)
	}
}

// authLogCSV exports the auth log as CSV with query (and accept, if set)
// and returns the parsed records, header first.
func authLogCSV(t *testing.T, query, accept string) [][]string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, adminURL+"/trusted-endpoints/auth-log?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("CSV export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	records, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v", err)
	}
	return records
}

func TestAdminAuthLogExportsCSVAndJSON(t *testing.T) {
	st := runningState(t, usersGateway(t, newUpstream(t), "")).Store()
	now := time.Now().UTC().Truncate(time.Second)
	ids := seedAuthLog(t, st,
		store.AuthLogEntry{Time: now, User: "plain", Application: "wiki", Result: "success", Reason: "user_approved",
			Factor: "mobile_inline", TrustStatus: "trusted", Groups: []string{"staff", "pilot"}, Mode: "check",
			UserAgent:          "Mozilla/5.0 (X11; Linux), \"quoted\"\nsecond line",
			DeviceFacts:        json.RawMessage(`{"platform":"android","model":"Pixel, \"8\""}`),
			FailedRequirements: []string{"no_screen_lock", "out_of_date"}},
		// Values a person or a device chose, which a spreadsheet would run.
		store.AuthLogEntry{Time: now, User: `=HYPERLINK("http://evil.example","x")`, Application: "wiki", Result: "denied",
			Reason: "invalid_password", Detail: "+1+2", UserAgent: "@SUM(1)", Email: "-2+3@example.com"},
	)
	for _, how := range []struct{ query, accept string }{
		{"format=csv", ""},
		{"", "text/csv"},
	} {
		records := authLogCSV(t, how.query, how.accept)
		if len(records) != 3 {
			t.Fatalf("%+v: %d records, want a header and two rows: %q", how, len(records), records)
		}
		header := records[0]
		if !slices.Equal(header, adminapi.AuthLogCSVHeader()) {
			t.Errorf("header = %q", header)
		}
		col := func(row []string, name string) string { return row[slices.Index(header, name)] }
		hostile, plain := records[1], records[2] // newest first
		if col(plain, "id") != strconv.FormatInt(ids[0], 10) || col(plain, "user") != "plain" ||
			col(plain, "groups") != "staff pilot" || col(plain, "failed_requirements") != "no_screen_lock out_of_date" ||
			col(plain, "user_agent") != "Mozilla/5.0 (X11; Linux), \"quoted\"\nsecond line" ||
			col(plain, "device_facts") != `{"platform":"android","model":"Pixel, \"8\""}` ||
			col(plain, "time") != now.Format(time.RFC3339Nano) || col(plain, "trust_status") != "trusted" {
			t.Errorf("plain row = %q", plain)
		}
		for name, want := range map[string]string{
			"user":       `'=HYPERLINK("http://evil.example","x")`,
			"detail":     "'+1+2",
			"user_agent": "'@SUM(1)",
			"email":      "'-2+3@example.com",
		} {
			if got := col(hostile, name); got != want {
				t.Errorf("%s = %q, want the formula neutralised as %q", name, got, want)
			}
		}
	}
	if records := authLogCSV(t, "format=csv&limit=1", ""); len(records) != 2 || records[1][2] != "'"+`=HYPERLINK("http://evil.example","x")` {
		t.Errorf("CSV with limit=1: %q, want the header and the newest row", records)
	}
	if records := authLogCSV(t, "format=csv&user=nobody", ""); len(records) != 1 {
		t.Errorf("CSV of nothing: %q, want only the header", records)
	}
	// JSON is the default and keeps values as they are.
	var page struct{ Entries []store.AuthLogEntry }
	adminGetJSON(t, "/trusted-endpoints/auth-log?result=denied", &page)
	if len(page.Entries) != 1 || page.Entries[0].User != `=HYPERLINK("http://evil.example","x")` {
		t.Errorf("JSON entries = %+v", page.Entries)
	}
}

func TestAdminAuthLogRejectsBadParameters(t *testing.T) {
	usersGateway(t, newUpstream(t), "")
	for _, tt := range []struct{ query, mention string }{
		{"result=ok", "result"},
		{"trust_status=maybe", "trust_status"},
		{"would_block=perhaps", "would_block"},
		{"since=last-week", "since"},
		{"until=2026-01-01", "until"},
		{"cursor=abc", "cursor"},
		{"cursor=-5", "cursor"},
		{"before=0", "before"},
		{"limit=0", "limit"},
		{"limit=5000", "limit"},
		{"format=xml", "format"},
		{"users=alice", "users"},
	} {
		adminBadRequest(t, "/trusted-endpoints/auth-log?"+tt.query, tt.mention)
	}
}
