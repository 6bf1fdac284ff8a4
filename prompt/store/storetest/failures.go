package storetest

import (
	"testing"
	"time"
)

func (s suite) countFailuresCountsFromSince(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const key = "login:alice|192.0.2.1"
	for _, at := range []time.Time{base.Add(-time.Minute), base, base.Add(time.Minute)} {
		if err := st.AddFailure(ctx, key, at); err != nil {
			t.Fatalf("AddFailure(%v): %v", at, err)
		}
	}

	tests := []struct {
		name  string
		since time.Time
		want  int
	}{
		{"zero since counts all", time.Time{}, 3},
		{"before all", base.Add(-time.Hour), 3},
		{"exactly at the first is inclusive", base.Add(-time.Minute), 3},
		{"just after the first", base.Add(-time.Minute + time.Microsecond), 2},
		{"exactly at the middle", base, 2},
		{"exactly at the last", base.Add(time.Minute), 1},
		{"just after the last", base.Add(time.Minute + time.Microsecond), 0},
		{"in another zone", base.In(time.FixedZone("UTC-5", -5*60*60)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.CountFailures(ctx, key, tt.since)
			if err != nil {
				t.Fatalf("CountFailures: %v", err)
			}
			if got != tt.want {
				t.Errorf("CountFailures(since %v) = %d, want %d", tt.since, got, tt.want)
			}
		})
	}
}

func (s suite) countFailuresIsZeroForUnknownKey(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	if err := st.AddFailure(ctx, "login:alice", base); err != nil {
		t.Fatalf("AddFailure: %v", err)
	}
	got, err := st.CountFailures(ctx, "login:bob", time.Time{})
	if err != nil {
		t.Fatalf("CountFailures: %v", err)
	}
	if got != 0 {
		t.Errorf("CountFailures for a key with no failures = %d, want 0", got)
	}
}

func (s suite) clearFailuresClearsOnlyThatKey(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for _, key := range []string{"login:alice", "login:alice", "login:bob"} {
		if err := st.AddFailure(ctx, key, base); err != nil {
			t.Fatalf("AddFailure(%s): %v", key, err)
		}
	}
	if err := st.ClearFailures(ctx, "login:alice"); err != nil {
		t.Fatalf("ClearFailures: %v", err)
	}
	if err := st.ClearFailures(ctx, "login:nobody"); err != nil {
		t.Errorf("ClearFailures for a key with no failures: %v, want nil", err)
	}
	for key, want := range map[string]int{"login:alice": 0, "login:bob": 1} {
		got, err := st.CountFailures(ctx, key, time.Time{})
		if err != nil {
			t.Fatalf("CountFailures(%s): %v", key, err)
		}
		if got != want {
			t.Errorf("after clearing alice, CountFailures(%s) = %d, want %d", key, got, want)
		}
	}
}

func (s suite) purgeForgetsOnlyFailuresBeforeCutoff(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	const key = "login:alice"
	for _, at := range []time.Time{base.Add(-time.Hour), base.Add(-time.Microsecond), base, base.Add(time.Hour)} {
		if err := st.AddFailure(ctx, key, at); err != nil {
			t.Fatalf("AddFailure(%v): %v", at, err)
		}
	}
	if err := st.Purge(ctx, base); err != nil {
		t.Fatalf("Purge: %v", err)
	}
	got, err := st.CountFailures(ctx, key, time.Time{})
	if err != nil {
		t.Fatalf("CountFailures: %v", err)
	}
	if got != 2 {
		t.Errorf("after Purge(base), %d failures remain, want 2 (at base and after)", got)
	}
}
