package storetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// healthHistory calls DeviceHealthHistory, failing t if it cannot.
func healthHistory(t *testing.T, st store.Store, id string, limit int) []store.HealthRecord {
	t.Helper()
	history, err := st.DeviceHealthHistory(t.Context(), id, limit)
	if err != nil {
		t.Fatalf("DeviceHealthHistory(%s): %v", id, err)
	}
	return history
}

func (s suite) deviceHealthHistoryListsReportsNewestFirst(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	createDevices(t, st, newDevice(1, "alice", base), newDevice(2, "alice", base))
	reports := []store.HealthRecord{
		{At: base.Add(time.Minute), Health: json.RawMessage(`{"screen_lock":false}`), Verdict: "not trusted"},
		{At: base.Add(2 * time.Minute), Health: json.RawMessage(`{"screen_lock":true}`), Verdict: "trusted"},
		// Reported late: the history is by report time, not by arrival.
		{At: base.Add(90 * time.Second), Health: json.RawMessage(`{"screen_lock":true,"tampered":true}`), Verdict: "not trusted"},
		// Two reports in one microsecond keep the order they came in.
		{At: base.Add(2 * time.Minute), Health: nil, Verdict: "trusted"},
	}
	for _, r := range reports {
		if err := st.RecordHealth(ctx, "thumbprint-1", r.Health, r.Verdict, r.At); err != nil {
			t.Fatalf("RecordHealth: %v", err)
		}
	}
	if err := st.RecordHealth(ctx, "thumbprint-2", json.RawMessage(`{}`), "trusted", base); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	want := []store.HealthRecord{reports[3], reports[1], reports[2], reports[0]}
	got := healthHistory(t, st, "thumbprint-1", 0)
	if len(got) != len(want) {
		t.Fatalf("history has %d reports, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		checkTime(t, "report At", got[i].At, want[i].At)
		checkJSON(t, "report Health", got[i].Health, want[i].Health)
		if got[i].Verdict != want[i].Verdict {
			t.Errorf("report %d Verdict = %q, want %q", i, got[i].Verdict, want[i].Verdict)
		}
	}
	if got := healthHistory(t, st, "thumbprint-1", 2); len(got) != 2 || !got[0].At.Equal(want[0].At) || !got[1].At.Equal(want[1].At) {
		t.Errorf("history with limit 2 = %+v, want the two newest", got)
	}
	if got := healthHistory(t, st, "unknown", 0); len(got) != 0 {
		t.Errorf("history of an unknown device = %+v, want none", got)
	}
	err := st.RecordHealth(ctx, "unknown", json.RawMessage(`{}`), "trusted", base)
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordHealth of an unknown device: %v, want ErrNotFound", err)
	}
	if got := healthHistory(t, st, "unknown", 0); len(got) != 0 {
		t.Errorf("RecordHealth of an unknown device left a history: %+v", got)
	}
}

func (s suite) purgeInactiveDevicesDeletesTheirHealthHistory(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	createDevices(t, st, newDevice(1, "alice", base), newDevice(2, "alice", base))
	// Device 2 reports later, so is seen later; device 1 goes.
	for id, at := range map[string]time.Time{"thumbprint-1": base, "thumbprint-2": base.Add(48 * time.Hour)} {
		if err := st.RecordHealth(ctx, id, json.RawMessage(`{}`), "trusted", at); err != nil {
			t.Fatalf("RecordHealth: %v", err)
		}
	}
	purgeInactiveDevices(t, st, base.Add(24*time.Hour), 10, 1)
	if got := healthHistory(t, st, "thumbprint-1", 0); len(got) != 0 {
		t.Errorf("history of the purged device = %+v, want none", got)
	}
	if got := healthHistory(t, st, "thumbprint-2", 0); len(got) != 1 {
		t.Errorf("history of the kept device = %+v, want its one report", got)
	}
}

func (s suite) deviceHealthHistoryKeepsOnlyTheLatestReports(t *testing.T) {
	st := s.newStore(t)
	createDevices(t, st, newDevice(1, "alice", base), newDevice(2, "alice", base))
	extra := 3
	for i := range store.HealthHistoryKept + extra {
		if err := st.RecordHealth(t.Context(), "thumbprint-1", nil, "trusted", base.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatalf("RecordHealth %d: %v", i, err)
		}
	}
	if err := st.RecordHealth(t.Context(), "thumbprint-2", nil, "trusted", base); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	got := healthHistory(t, st, "thumbprint-1", 1000)
	if len(got) != store.HealthHistoryKept {
		t.Fatalf("history has %d reports, want the latest %d", len(got), store.HealthHistoryKept)
	}
	checkTime(t, "newest report", got[0].At, base.Add(time.Duration(store.HealthHistoryKept+extra-1)*time.Second))
	checkTime(t, "oldest report kept", got[len(got)-1].At, base.Add(time.Duration(extra)*time.Second))
	if got := healthHistory(t, st, "thumbprint-2", 0); len(got) != 1 {
		t.Errorf("another device's history = %d reports, want its one", len(got))
	}
}
