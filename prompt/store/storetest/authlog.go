package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// fullEntry returns an auth-log entry with every field set.
func fullEntry() store.AuthLogEntry {
	return store.AuthLogEntry{
		Time:        base,
		User:        "alice",
		Email:       "alice@example.com",
		Groups:      []string{"admins", "staff"},
		Application: "wiki",
		Result:      store.ResultSuccess,
		Reason:      "user_approved",
		Factor:      "oidc",
		TrustStatus: "trusted",
		IP:          "192.0.2.1",
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64)",
		Detail:      "first login today",

		Mode:               "check",
		WouldBlock:         true,
		FailedRequirements: []string{"no_screen_lock", "version_restricted"},
		Warnings:           []string{"out_of_date"},
		DeviceID:           "thumbprint-1",
		DeviceFacts:        json.RawMessage(`{"screen_lock":false,"os":"Android","os_version":"14","rooted":false}`),
		AccessDevice: store.AccessDevice{
			Kind:      "android_phone",
			OS:        "Android",
			OSVersion: "14",
			Browser:   "Chrome",
		},
		Unbound:     true,
		Integration: "mobile",
	}
}

// checkEntry reports how got differs from want, which was appended and
// assigned id. Times must be the same instant to the microsecond and in UTC;
// nil and empty lists (Groups, FailedRequirements, Warnings) are equivalent;
// DeviceFacts must be the same JSON value, and nil when want's is empty.
func checkEntry(t *testing.T, got, want store.AuthLogEntry, id int64) {
	t.Helper()
	if got.ID != id {
		t.Errorf("ID = %d, want %d", got.ID, id)
	}
	if d := got.Time.Sub(want.Time); d <= -time.Microsecond || d >= time.Microsecond {
		t.Errorf("Time = %v, want %v (to the microsecond)", got.Time, want.Time)
	}
	if got.Time.Location() != time.UTC {
		t.Errorf("Time is in %v, want UTC", got.Time.Location())
	}
	checkList(t, "Groups", got.Groups, want.Groups)
	checkList(t, "FailedRequirements", got.FailedRequirements, want.FailedRequirements)
	checkList(t, "Warnings", got.Warnings, want.Warnings)
	checkJSON(t, "DeviceFacts", got.DeviceFacts, want.DeviceFacts)
	// Compare every other field, so that a field added to AuthLogEntry is
	// checked without touching this function.
	got.ID, got.Time, got.Groups, got.FailedRequirements, got.Warnings, got.DeviceFacts = 0, time.Time{}, nil, nil, nil, nil
	want.ID, want.Time, want.Groups, want.FailedRequirements, want.Warnings, want.DeviceFacts = 0, time.Time{}, nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("entry = %+v, want %+v", got, want)
	}
}

// checkList reports whether got holds the same strings as want, in order; a
// nil and an empty list are equivalent.
func checkList(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != 0 || len(want) != 0 {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
}

// appendEntries appends entries in order and returns their IDs.
func appendEntries(t *testing.T, st store.Store, entries ...store.AuthLogEntry) []int64 {
	t.Helper()
	ids := make([]int64, len(entries))
	for i, e := range entries {
		id, err := st.AppendAuthLog(t.Context(), e)
		if err != nil {
			t.Fatalf("AppendAuthLog(entry %d): %v", i, err)
		}
		ids[i] = id
	}
	return ids
}

// entryIDs lists the IDs of entries, for messages and comparisons.
func entryIDs(entries []store.AuthLogEntry) []int64 {
	ids := make([]int64, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return ids
}

// onlyEntry fetches the single entry in st.
func onlyEntry(t *testing.T, st store.Store) store.AuthLogEntry {
	t.Helper()
	got, err := st.QueryAuthLog(t.Context(), store.AuthLogQuery{})
	if err != nil {
		t.Fatalf("QueryAuthLog: %v", err)
	}
	if len(got) != 1 {
		t.Fatalf("QueryAuthLog returned %d entries, want 1", len(got))
	}
	return got[0]
}

func (s suite) appendAuthLogRoundTripsEveryField(t *testing.T) {
	st := s.newStore(t)
	want := fullEntry()
	want.ID = 987654 // ignored: the store assigns IDs
	// A time in another zone, with nanoseconds, must come back as the same
	// instant in UTC to the microsecond.
	want.Time = base.Add(789 * time.Nanosecond).In(time.FixedZone("UTC+9", 9*60*60))

	ids := appendEntries(t, st, want)
	if ids[0] <= 0 {
		t.Errorf("AppendAuthLog returned ID %d, want a positive ID", ids[0])
	}
	checkEntry(t, onlyEntry(t, st), want, ids[0])
}

func (s suite) appendAuthLogRoundTripsEdgeValues(t *testing.T) {
	tests := []struct {
		name string
		edit func(e *store.AuthLogEntry)
	}{
		{"nil groups", func(e *store.AuthLogEntry) { e.Groups = nil }},
		{"empty groups", func(e *store.AuthLogEntry) { e.Groups = []string{} }},
		{"one empty group name", func(e *store.AuthLogEntry) { e.Groups = []string{""} }},
		{"groups with JSON and SQL metacharacters", func(e *store.AuthLogEntry) {
			e.Groups = []string{`a"b`, `c\d`, "e,f", "g'h; DROP TABLE x;--", "[]"}
		}},
		{"only required fields", func(e *store.AuthLogEntry) {
			*e = store.AuthLogEntry{Time: base, Result: store.ResultError}
		}},
		{"unicode", func(e *store.AuthLogEntry) {
			e.User = "josé.müller"
			e.Email = "名前@例え.jp"
			e.Groups = []string{"Ärzte", "👩‍💻 engineers"}
			e.Detail = "línea 1\nline 2\ttab \u2028 end"
		}},
		{"8 KiB user agent", func(e *store.AuthLogEntry) {
			e.UserAgent = strings.Repeat("Mozilla/5.0 ", 8<<10/12+1)[:8<<10]
		}},
		{"time before 1970", func(e *store.AuthLogEntry) {
			e.Time = time.Date(1969, time.July, 20, 20, 17, 40, 123456000, time.UTC)
		}},
		{"nil failed requirements and warnings", func(e *store.AuthLogEntry) {
			e.FailedRequirements, e.Warnings = nil, nil
		}},
		{"empty failed requirements and warnings", func(e *store.AuthLogEntry) {
			e.FailedRequirements, e.Warnings = []string{}, []string{}
		}},
		{"requirements with JSON and SQL metacharacters", func(e *store.AuthLogEntry) {
			e.FailedRequirements = []string{`a"b`, "", "[]", "g'h; DROP TABLE x;--"}
			e.Warnings = []string{`c\d`, "null"}
		}},
		{"nil device facts", func(e *store.AuthLogEntry) { e.DeviceFacts = nil }},
		{"empty device facts", func(e *store.AuthLogEntry) { e.DeviceFacts = json.RawMessage{} }},
		{"device facts with spacing, nesting and unicode", func(e *store.AuthLogEntry) {
			e.DeviceFacts = json.RawMessage(` { "os" : "Android 15 \u00e9",
				"patch": {"level": "2025-03-01", "ok": null}, "apps": [1, 2.5, "<script>"] } `)
		}},
		{"check mode that would not block", func(e *store.AuthLogEntry) {
			e.Mode, e.WouldBlock, e.FailedRequirements = "check", false, nil
		}},
		{"block mode", func(e *store.AuthLogEntry) {
			e.Mode, e.WouldBlock, e.Result, e.Reason = "block", false, store.ResultDenied, "endpoint_is_not_trusted"
		}},
		{"bound login", func(e *store.AuthLogEntry) { e.Unbound = false }},
		{"managed device", func(e *store.AuthLogEntry) {
			e.Factor, e.Integration, e.DeviceID, e.DeviceFacts = "managed_certificate", "managed", "", nil
		}},
		{"access device with only a kind", func(e *store.AuthLogEntry) {
			e.AccessDevice = store.AccessDevice{Kind: "unknown"}
		}},
		{"no access device", func(e *store.AuthLogEntry) { e.AccessDevice = store.AccessDevice{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			want := fullEntry()
			tt.edit(&want)
			ids := appendEntries(t, st, want)
			checkEntry(t, onlyEntry(t, st), want, ids[0])
		})
	}
}

func (s suite) appendAuthLogWithoutTrustFieldsReadsBackZeroValues(t *testing.T) {
	// An entry as a login without device trust writes it (a password or
	// OIDC login, mode off): every device-trust field must come back as its
	// zero value, not as an empty-but-set one.
	st := s.newStore(t)
	want := store.AuthLogEntry{
		Time:        base,
		User:        "alice",
		Email:       "alice@example.com",
		Groups:      []string{"staff"},
		Application: "wiki",
		Result:      store.ResultSuccess,
		Reason:      "user_approved",
		Factor:      "password",
		TrustStatus: "unknown",
		IP:          "192.0.2.1",
		UserAgent:   "Mozilla/5.0 (X11; Linux x86_64)",
		Detail:      "no device trust",
	}
	ids := appendEntries(t, st, want)
	got := onlyEntry(t, st)
	checkEntry(t, got, want, ids[0])
	if got.FailedRequirements != nil || got.Warnings != nil || got.DeviceFacts != nil {
		t.Errorf("FailedRequirements = %#v, Warnings = %#v, DeviceFacts = %#v; want all nil",
			got.FailedRequirements, got.Warnings, got.DeviceFacts)
	}
	if got.Mode != "" || got.WouldBlock || got.DeviceID != "" || got.AccessDevice != (store.AccessDevice{}) || got.Unbound || got.Integration != "" {
		t.Errorf("Mode = %q, WouldBlock = %v, DeviceID = %q, AccessDevice = %+v, Unbound = %v, Integration = %q; want zero values",
			got.Mode, got.WouldBlock, got.DeviceID, got.AccessDevice, got.Unbound, got.Integration)
	}
}

func (s suite) appendAuthLogReturnsIncreasingIDs(t *testing.T) {
	st := s.newStore(t)
	entries := make([]store.AuthLogEntry, 5)
	for i := range entries {
		entries[i] = fullEntry()
		entries[i].Time = base.Add(time.Duration(i) * time.Second)
	}
	ids := appendEntries(t, st, entries...)
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("AppendAuthLog IDs %v are not increasing", ids)
		}
	}
}

func (s suite) queryAuthLogOnEmptyStoreReturnsNothing(t *testing.T) {
	st := s.newStore(t)
	got, err := st.QueryAuthLog(t.Context(), store.AuthLogQuery{User: "alice"})
	if err != nil {
		t.Fatalf("QueryAuthLog on an empty store: %v, want no error", err)
	}
	if len(got) != 0 {
		t.Errorf("QueryAuthLog on an empty store returned %d entries, want 0", len(got))
	}
}

func (s suite) queryAuthLogFilters(t *testing.T) {
	st := s.newStore(t)
	entries := filterEntries()
	ids := appendEntries(t, st, entries...)
	for _, tt := range authLogFilterCases() {
		t.Run(tt.name, func(t *testing.T) {
			q := tt.q
			if tt.beforeEntry != nil {
				q.BeforeID = ids[*tt.beforeEntry]
			}
			got, err := st.QueryAuthLog(t.Context(), q)
			if err != nil {
				t.Fatalf("QueryAuthLog(%+v): %v", q, err)
			}
			wantIDs := make([]int64, len(tt.want))
			for i, n := range tt.want {
				wantIDs[i] = ids[n]
			}
			if !slices.Equal(entryIDs(got), wantIDs) {
				t.Fatalf("QueryAuthLog(%+v) IDs = %v, want %v", q, entryIDs(got), wantIDs)
			}
			for i, n := range tt.want {
				checkEntry(t, got[i], entries[n], ids[n])
			}
		})
	}
}

// filterMinute is the time of filter entry n: entry n is logged at minute n.
func filterMinute(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }

// filterEntries are the auth-log entries queryAuthLogFilters filters:
// entry i is logged at minute i, with users, applications, results and
// reasons that vary independently of the device-trust fields.
func filterEntries() []store.AuthLogEntry {
	entry := func(n int, user, app, result, reason string) store.AuthLogEntry {
		e := fullEntry()
		e.Time, e.User, e.Application, e.Result, e.Reason = filterMinute(n), user, app, result, reason
		return e
	}
	// Entry i is logged at minute i.
	entries := []store.AuthLogEntry{
		entry(0, "alice", "wiki", store.ResultSuccess, "user_approved"),
		entry(1, "bob", "wiki", store.ResultDenied, "invalid_password"),
		entry(2, "alice", "mail", store.ResultDenied, "locked_out"),
		entry(3, "alice", "wiki", store.ResultError, "invalid_state"),
		entry(4, "carol", "mail", store.ResultSuccess, "user_approved"),
		entry(5, "bob", "mail", store.ResultDenied, "invalid_password"),
	}
	// Vary the device-trust fields independently of the fields above.
	trust := []struct {
		factor, trustStatus string
		wouldBlock          bool
	}{
		{"push", "trusted", false},
		{"password", "unknown", false},
		{"push", "not trusted", true},
		{"passcode", "not trusted", true},
		{"oidc", "unknown", false},
		{"push", "trusted", true},
	}
	for i, tr := range trust {
		entries[i].Factor, entries[i].TrustStatus, entries[i].WouldBlock = tr.factor, tr.trustStatus, tr.wouldBlock
	}
	// And the integration that decided, as the gate records it.
	for i, integration := range []string{"mobile", "", "mobile", "managed", "", "managed"} {
		entries[i].Integration = integration
	}
	return entries
}

// authLogFilterCase is one query of queryAuthLogFilters and the entries
// it must return.
type authLogFilterCase struct {
	name string
	q    store.AuthLogQuery
	// beforeEntry, when set, is the index of the entry whose ID is the
	// BeforeID cursor.
	beforeEntry *int
	want        []int // entry indexes, newest first
}

// authLogFilterCases are the queries of queryAuthLogFilters.
func authLogFilterCases() []authLogFilterCase {
	minute := filterMinute
	return []authLogFilterCase{
		{name: "no filter", want: []int{5, 4, 3, 2, 1, 0}},
		{name: "user", q: store.AuthLogQuery{User: "alice"}, want: []int{3, 2, 0}},
		{name: "application", q: store.AuthLogQuery{Application: "mail"}, want: []int{5, 4, 2}},
		{name: "result", q: store.AuthLogQuery{Result: store.ResultDenied}, want: []int{5, 2, 1}},
		{name: "reason", q: store.AuthLogQuery{Reason: "invalid_password"}, want: []int{5, 1}},
		{name: "factor", q: store.AuthLogQuery{Factor: "push"}, want: []int{5, 2, 0}},
		{name: "unknown factor", q: store.AuthLogQuery{Factor: "sms"}, want: nil},
		{name: "trust status", q: store.AuthLogQuery{TrustStatus: "not trusted"}, want: []int{3, 2}},
		{name: "would block", q: store.AuthLogQuery{WouldBlock: ptr(true)}, want: []int{5, 3, 2}},
		{name: "would not block", q: store.AuthLogQuery{WouldBlock: ptr(false)}, want: []int{4, 1, 0}},
		{name: "factor and trust status", q: store.AuthLogQuery{Factor: "push", TrustStatus: "trusted"}, want: []int{5, 0}},
		{name: "integration", q: store.AuthLogQuery{Integration: "managed"}, want: []int{5, 3}},
		{name: "integration and would block", q: store.AuthLogQuery{Integration: "mobile", WouldBlock: ptr(true)}, want: []int{2}},
		{name: "would block and user", q: store.AuthLogQuery{User: "alice", WouldBlock: ptr(true)}, want: []int{3, 2}},
		{name: "would block with limit", q: store.AuthLogQuery{WouldBlock: ptr(true), Limit: 2}, want: []int{5, 3}},
		{name: "user and application", q: store.AuthLogQuery{User: "alice", Application: "wiki"}, want: []int{3, 0}},
		{name: "user and result", q: store.AuthLogQuery{User: "bob", Result: store.ResultSuccess}, want: nil},
		{name: "unknown user", q: store.AuthLogQuery{User: "mallory"}, want: nil},
		{name: "since is inclusive", q: store.AuthLogQuery{Since: minute(2)}, want: []int{5, 4, 3, 2}},
		{name: "since between entries", q: store.AuthLogQuery{Since: minute(2).Add(time.Microsecond)}, want: []int{5, 4, 3}},
		{name: "until is exclusive", q: store.AuthLogQuery{Until: minute(2)}, want: []int{1, 0}},
		{name: "since and until", q: store.AuthLogQuery{Since: minute(1), Until: minute(4)}, want: []int{3, 2, 1}},
		{name: "since after everything", q: store.AuthLogQuery{Since: minute(6)}, want: nil},
		{name: "since in another zone", q: store.AuthLogQuery{Since: minute(4).In(time.FixedZone("UTC-7", -7*60*60))}, want: []int{5, 4}},
		{name: "before ID", beforeEntry: ptr(3), want: []int{2, 1, 0}},
		{name: "before ID and user", q: store.AuthLogQuery{User: "alice"}, beforeEntry: ptr(3), want: []int{2, 0}},
		{name: "before the first ID", beforeEntry: ptr(0), want: nil},
		{name: "limit", q: store.AuthLogQuery{Limit: 2}, want: []int{5, 4}},
		{name: "limit with filter", q: store.AuthLogQuery{Application: "mail", Limit: 2}, want: []int{5, 4}},
		{name: "limit larger than matches", q: store.AuthLogQuery{Result: store.ResultError, Limit: 10}, want: []int{3}},
		{name: "negative limit means default", q: store.AuthLogQuery{Limit: -1}, want: []int{5, 4, 3, 2, 1, 0}},
	}
}

func (s suite) queryAuthLogLimitDefaultsTo100(t *testing.T) {
	st := s.newStore(t)
	const n = 105
	entries := make([]store.AuthLogEntry, n)
	for i := range entries {
		entries[i] = fullEntry()
		entries[i].Time = base.Add(time.Duration(i) * time.Second)
		entries[i].Detail = fmt.Sprintf("entry %d", i)
	}
	ids := appendEntries(t, st, entries...)

	got, err := st.QueryAuthLog(t.Context(), store.AuthLogQuery{})
	if err != nil {
		t.Fatalf("QueryAuthLog: %v", err)
	}
	if len(got) != 100 {
		t.Fatalf("QueryAuthLog with zero Limit returned %d entries, want 100", len(got))
	}
	if got[0].ID != ids[n-1] || got[99].ID != ids[n-100] {
		t.Errorf("QueryAuthLog returned IDs %d..%d, want the newest 100, %d..%d",
			got[0].ID, got[99].ID, ids[n-1], ids[n-100])
	}
}

func (s suite) queryAuthLogPagesWithBeforeID(t *testing.T) {
	st := s.newStore(t)
	const n = 7
	entries := make([]store.AuthLogEntry, n)
	for i := range entries {
		entries[i] = fullEntry()
		entries[i].Time = base.Add(time.Duration(i) * time.Second)
	}
	ids := appendEntries(t, st, entries...)

	var paged []int64
	q := store.AuthLogQuery{Limit: 3}
	for page := 0; ; page++ {
		if page > n {
			t.Fatalf("paging did not end after %d pages; IDs so far %v", page, paged)
		}
		got, err := st.QueryAuthLog(t.Context(), q)
		if err != nil {
			t.Fatalf("QueryAuthLog(%+v): %v", q, err)
		}
		if len(got) == 0 {
			break
		}
		paged = append(paged, entryIDs(got)...)
		q.BeforeID = got[len(got)-1].ID
	}
	want := slices.Clone(ids)
	slices.Reverse(want)
	if !slices.Equal(paged, want) {
		t.Errorf("paging with Limit 3 and BeforeID gave IDs %v, want %v", paged, want)
	}
}

func ptr[T any](v T) *T { return &v }
