package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// defaultRetention are the retention settings without any configured.
var defaultRetention = Retention{AuthLog: DefaultAuthLogRetention, InactiveDevices: DefaultInactiveDeviceRetention}

// openRetentionStore opens a new SQLite store in a temporary directory.
func openRetentionStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fillRetentionStore stores entries auth-log entries and devices devices
// at each of old and recent, and returns the IDs of the old devices.
func fillRetentionStore(t *testing.T, st store.Store, entries, devices int, old, recent time.Time) []string {
	t.Helper()
	ctx := t.Context()
	var oldDevices []string
	for _, at := range []time.Time{old, recent} {
		for i := range entries {
			e := store.AuthLogEntry{Time: at.Add(time.Duration(i) * time.Microsecond), User: "alice", Result: store.ResultSuccess}
			if _, err := st.AppendAuthLog(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for i := range devices {
			d := store.Device{
				ID: fmt.Sprintf("device-%d-%d", at.Unix(), i), User: "alice",
				PublicKey: json.RawMessage(`{"kty":"EC"}`), Platform: "ios",
				Created: at, LastSeen: at,
			}
			if err := st.CreateDevice(ctx, d); err != nil {
				t.Fatal(err)
			}
			if at.Equal(old) {
				oldDevices = append(oldDevices, d.ID)
			}
		}
	}
	return oldDevices
}

// countingPurge wraps a purge call and counts how often it is called.
func countingPurge(calls *int, purge func(ctx context.Context, limit int) (int, error)) func(ctx context.Context, limit int) (int, error) {
	return func(ctx context.Context, limit int) (int, error) {
		*calls++
		return purge(ctx, limit)
	}
}

func TestRetentionDeletesOldRecordsInBatchesAndKeepsRecentOnes(t *testing.T) {
	st := openRetentionStore(t)
	now := time.Now()
	old, recent := now.Add(-200*24*time.Hour), now.Add(-time.Hour)
	// 25 old entries and 12 old devices, in batches of 10: three batches
	// each, the last one short.
	oldDevices := fillRetentionStore(t, st, 25, 12, old, recent)
	// A push of an old device goes with it.
	push := store.Push{ID: "push-1", User: "alice", DeviceID: oldDevices[0], TransactionID: "txn-1",
		Created: now, Expires: now.Add(time.Minute)}
	if err := st.CreatePush(t.Context(), push); err != nil {
		t.Fatal(err)
	}

	cutoffs := defaultRetention.cutoffs(now)
	authLog, devices, err := applyRetention(t.Context(), st, cutoffs, retentionBatches{size: 10, pause: time.Millisecond})
	if err != nil {
		t.Fatalf("applyRetention: %v", err)
	}
	if authLog != 25 || devices != 12 {
		t.Errorf("applyRetention deleted %d auth-log entries and %d devices, want 25 and 12", authLog, devices)
	}

	entries, err := st.QueryAuthLog(t.Context(), store.AuthLogQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 25 {
		t.Errorf("%d auth-log entries left, want the 25 recent ones", len(entries))
	}
	for _, e := range entries {
		if e.Time.Before(cutoffs.authLog) {
			t.Errorf("entry %d of %v is older than the cutoff %v and was kept", e.ID, e.Time, cutoffs.authLog)
		}
	}
	left, err := st.UserDevices(t.Context(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 12 {
		t.Errorf("%d devices left, want the 12 recent ones", len(left))
	}
	for _, d := range left {
		if !d.LastSeen.Equal(recent.Truncate(time.Microsecond)) {
			t.Errorf("device %s last seen %v was kept", d.ID, d.LastSeen)
		}
	}
	if _, err := st.Push(t.Context(), push.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Push of a deleted device = %v, want ErrNotFound", err)
	}
}

func TestPurgeInBatchesStopsAfterAShortBatch(t *testing.T) {
	st := openRetentionStore(t)
	now := time.Now()
	fillRetentionStore(t, st, 30, 0, now.Add(-time.Hour), now)
	calls := 0
	n, err := purgeInBatches(t.Context(), retentionBatches{size: 10, pause: time.Millisecond},
		countingPurge(&calls, func(ctx context.Context, limit int) (int, error) {
			return st.PurgeAuthLog(ctx, now.Add(-time.Minute), limit)
		}))
	if err != nil {
		t.Fatal(err)
	}
	// Three full batches, then one that finds nothing left.
	if n != 30 || calls != 4 {
		t.Errorf("purgeInBatches deleted %d rows in %d calls, want 30 in 4", n, calls)
	}
}

func TestPurgeInBatchesStopsAtFirstErrorWithCountSoFar(t *testing.T) {
	failure := errors.New("database is locked")
	calls := 0
	n, err := purgeInBatches(t.Context(), retentionBatches{size: 10, pause: time.Millisecond},
		countingPurge(&calls, func(ctx context.Context, limit int) (int, error) {
			if calls == 3 {
				return 0, failure
			}
			return limit, nil
		}))
	if !errors.Is(err, failure) || n != 20 || calls != 3 {
		t.Errorf("purgeInBatches = %d, %v after %d calls; want 20, %v after 3", n, err, calls, failure)
	}
}

func TestPurgeInBatchesStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	calls := 0
	n, err := purgeInBatches(ctx, retentionBatches{size: 10, pause: time.Hour},
		countingPurge(&calls, func(ctx context.Context, limit int) (int, error) {
			cancel() // during the first batch; the pause must not be waited out
			return limit, nil
		}))
	if !errors.Is(err, context.Canceled) || n != 10 || calls != 1 {
		t.Errorf("purgeInBatches = %d, %v after %d calls; want 10, context.Canceled after 1", n, err, calls)
	}
}

func TestRetentionKeptForeverDeletesNothing(t *testing.T) {
	st := openRetentionStore(t)
	now := time.Now()
	fillRetentionStore(t, st, 3, 3, now.Add(-1000*24*time.Hour), now)
	cutoffs := Retention{}.cutoffs(now) // forever
	authLog, devices, err := applyRetention(t.Context(), st, cutoffs, retentionBatches{size: 10, pause: time.Millisecond})
	if err != nil || authLog != 0 || devices != 0 {
		t.Errorf("applyRetention = %d, %d, %v; want nothing deleted", authLog, devices, err)
	}
}

func TestRetainLogsWhatWentAndUsesLatestSettings(t *testing.T) {
	st := openRetentionStore(t)
	now := time.Now()
	fillRetentionStore(t, st, 4, 2, now.Add(-10*24*time.Hour), now)
	core, logs := observer.New(zapcore.InfoLevel)
	s := &Shared{store: st, logger: zap.New(core)}

	// The defaults keep records ten days old.
	s.SetRetention(defaultRetention)
	s.retain(t.Context(), now)
	if n := logs.Len(); n != 0 {
		t.Fatalf("a run that deleted nothing logged %d entries: %v", n, logs.All())
	}

	// A reload shortens both periods to a week.
	week := 7 * 24 * time.Hour
	s.SetRetention(Retention{AuthLog: week, InactiveDevices: week})
	s.retain(t.Context(), now)
	got := logs.FilterMessage("retention deleted old records").All()
	if len(got) != 1 {
		t.Fatalf("logged %v, want one entry saying what retention deleted", logs.All())
	}
	fields := got[0].ContextMap()
	if fields["auth_log_entries"] != int64(4) || fields["devices"] != int64(2) {
		t.Errorf("logged %v, want 4 auth-log entries and 2 devices", fields)
	}
}

func TestRetainWarnsWhenStoreFails(t *testing.T) {
	st := openRetentionStore(t)
	core, logs := observer.New(zapcore.InfoLevel)
	s := &Shared{store: st, logger: zap.New(core)}
	s.SetRetention(defaultRetention)
	st.Close() // every purge now fails
	s.retain(t.Context(), time.Now())
	warnings := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warnings) != 1 {
		t.Fatalf("logged %v, want one warning", logs.All())
	}
	if _, ok := warnings[0].ContextMap()["error"]; !ok {
		t.Errorf("warning %v does not carry the error", warnings[0].ContextMap())
	}
}

func TestRetentionCutoffsOfForeverAndPeriods(t *testing.T) {
	day := 24 * time.Hour
	now := time.Date(2026, time.November, 27, 12, 0, 0, 0, time.UTC)
	if c := (Retention{}).cutoffs(now); !c.authLog.IsZero() || !c.inactiveDevices.IsZero() {
		t.Errorf("cutoffs of forever = %+v, want zero times", c)
	}
	c := Retention{AuthLog: day, InactiveDevices: 2 * day}.cutoffs(now)
	if !c.authLog.Equal(now.Add(-day)) || !c.inactiveDevices.Equal(now.Add(-2*day)) {
		t.Errorf("cutoffs = %+v, want a day and two days before %v", c, now)
	}
}
