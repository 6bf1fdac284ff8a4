package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// authLogTimes lists the Time of every stored auth-log entry, oldest first.
func authLogTimes(t *testing.T, st store.Store) []time.Time {
	t.Helper()
	entries, err := st.QueryAuthLog(t.Context(), store.AuthLogQuery{Limit: 1000})
	if err != nil {
		t.Fatalf("QueryAuthLog: %v", err)
	}
	times := make([]time.Time, len(entries))
	for i, e := range entries {
		times[i] = e.Time
	}
	slices.SortFunc(times, time.Time.Compare)
	return times
}

// purgeAuthLog calls PurgeAuthLog and checks how many entries it reports.
func purgeAuthLog(t *testing.T, st store.Store, before time.Time, limit, want int) {
	t.Helper()
	n, err := st.PurgeAuthLog(t.Context(), before, limit)
	if err != nil {
		t.Fatalf("PurgeAuthLog(limit %d): %v", limit, err)
	}
	if n != want {
		t.Fatalf("PurgeAuthLog(limit %d) = %d, want %d", limit, n, want)
	}
}

// purgeInactiveDevices calls PurgeInactiveDevices and checks how many
// devices it reports.
func purgeInactiveDevices(t *testing.T, st store.Store, before time.Time, limit, want int) {
	t.Helper()
	n, err := st.PurgeInactiveDevices(t.Context(), before, limit)
	if err != nil {
		t.Fatalf("PurgeInactiveDevices(limit %d): %v", limit, err)
	}
	if n != want {
		t.Fatalf("PurgeInactiveDevices(limit %d) = %d, want %d", limit, n, want)
	}
}

// checkTimes reports whether got and want are the same instants in order.
func checkTimes(t *testing.T, what string, got, want []time.Time) {
	t.Helper()
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func (s suite) purgeAuthLogDeletesOldestEntriesInBatches(t *testing.T) {
	st := s.newStore(t)
	// Five entries before the cutoff, appended out of time order so that
	// "oldest first" must follow Time rather than ID, and two kept: one at
	// the cutoff itself and one after it.
	old := []time.Time{
		base.Add(-2 * time.Hour),
		base.Add(-5 * time.Hour),
		base.Add(-time.Microsecond),
		base.Add(-4 * time.Hour),
		base.Add(-3 * time.Hour),
	}
	kept := []time.Time{base, base.Add(time.Hour)}
	for _, at := range append(slices.Clone(old), kept...) {
		e := fullEntry()
		e.Time = at
		appendEntries(t, st, e)
	}

	purgeAuthLog(t, st, base, 2, 2)
	checkTimes(t, "after the first batch, entries", authLogTimes(t, st), []time.Time{
		base.Add(-3 * time.Hour), base.Add(-2 * time.Hour), base.Add(-time.Microsecond), base, base.Add(time.Hour),
	})
	purgeAuthLog(t, st, base, 2, 2)
	purgeAuthLog(t, st, base, 2, 1) // fewer than the limit: the backlog is done
	purgeAuthLog(t, st, base, 2, 0)
	checkTimes(t, "after purging, entries", authLogTimes(t, st), kept)
}

func (s suite) purgeAuthLogOnEmptyLogDeletesNothing(t *testing.T) {
	st := s.newStore(t)
	purgeAuthLog(t, st, base, 100, 0)
}

func (s suite) purgeInactiveDevicesDeletesOnlyInactiveDevices(t *testing.T) {
	st := s.newStore(t)
	// base is the cutoff; long is well before it, recent after it.
	long := base.Add(-60 * 24 * time.Hour)
	recent := base.Add(time.Hour)
	device := func(n int, created, lastSeen, revoked time.Time) store.Device {
		d := newDevice(n, "alice", created)
		d.LastSeen, d.Revoked = lastSeen, revoked
		return d
	}
	var zero time.Time
	gone := []store.Device{
		device(1, long, zero, zero),                        // never seen since activation long ago
		device(2, long, long.Add(time.Hour), zero),         // seen long ago
		device(3, long, long, long.Add(time.Hour)),         // revoked long ago
		device(4, long, zero, base.Add(-time.Microsecond)), // revoked just before the cutoff
	}
	kept := []store.Device{
		device(5, long, recent, zero),                // seen recently
		device(6, recent, zero, zero),                // activated recently, never seen
		device(7, long, long, recent),                // revoked recently: listed a while yet
		device(8, long, base, zero),                  // seen at the cutoff itself
		device(9, long, recent, long.Add(time.Hour)), // revoked long ago, seen since
	}
	createDevices(t, st, append(slices.Clone(gone), kept...)...)

	purgeInactiveDevices(t, st, base, 100, len(gone))

	for _, d := range gone {
		if _, err := st.Device(t.Context(), d.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Device(%s), last active %v = %v, want ErrNotFound after PurgeInactiveDevices", d.ID, d.LastActive(), err)
		}
	}
	for _, d := range kept {
		checkDevice(t, storedDevice(t, st, d.ID), d)
	}
	purgeInactiveDevices(t, st, base, 100, 0)
}

func (s suite) purgeInactiveDevicesDeletesTheirPushes(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	long := base.Add(-60 * 24 * time.Hour)
	inactive, active := newDevice(1, "alice", long), newDevice(2, "alice", long)
	active.LastSeen = base.Add(time.Hour)
	createDevices(t, st, inactive, active)
	// The inactive device's pushes, answered or not, go with it; pushes are
	// created unexpired at now so that only the device's going removes them.
	now := base.Add(-time.Minute)
	pending, answered, other := testPush(1, inactive.ID, now), testPush(2, inactive.ID, now), testPush(3, active.ID, now)
	createPushes(t, st, pending, answered, other)
	if _, err := st.AnswerPush(ctx, answered.ID, inactive.ID, store.PushDenied, "user_cancelled", now); err != nil {
		t.Fatalf("AnswerPush: %v", err)
	}

	purgeInactiveDevices(t, st, base, 100, 1)

	for _, p := range []store.Push{pending, answered} {
		if _, err := st.Push(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Push(%s) of a purged device = %v, want ErrNotFound", p.ID, err)
		}
	}
	if got, err := st.PendingPushes(ctx, inactive.ID, now); err != nil || len(got) != 0 {
		t.Errorf("PendingPushes of a purged device = %v, %v; want none", pushIDs(got), err)
	}
	checkPush(t, storedPush(t, st, other.ID), other)
	checkDevice(t, storedDevice(t, st, active.ID), active)
}

func (s suite) purgeInactiveDevicesHonoursLimit(t *testing.T) {
	st := s.newStore(t)
	long := base.Add(-60 * 24 * time.Hour)
	var inactive []store.Device
	for n := range 5 {
		inactive = append(inactive, newDevice(n+1, "alice", long.Add(time.Duration(n)*time.Hour)))
	}
	active := newDevice(6, "alice", base)
	createDevices(t, st, append(inactive, active)...)

	purgeInactiveDevices(t, st, base, 2, 2)
	if got, err := st.UserDevices(t.Context(), "alice"); err != nil || len(got) != 4 {
		t.Fatalf("after one batch of 2, UserDevices = %v, %v; want 4 devices", deviceIDs(got), err)
	}
	purgeInactiveDevices(t, st, base, 2, 2)
	purgeInactiveDevices(t, st, base, 2, 1)
	purgeInactiveDevices(t, st, base, 2, 0)
	got, err := st.UserDevices(t.Context(), "alice")
	if err != nil {
		t.Fatalf("UserDevices: %v", err)
	}
	if ids := deviceIDs(got); !slices.Equal(ids, []string{active.ID}) {
		t.Errorf("after purging, devices = %q, want only %q", ids, active.ID)
	}
}

func (s suite) purgeWithoutPositiveLimitFailsAndChangesNothing(t *testing.T) {
	st := s.newStore(t)
	long := base.Add(-60 * 24 * time.Hour)
	e := fullEntry()
	e.Time = long
	appendEntries(t, st, e)
	d := newDevice(1, "alice", long)
	createDevices(t, st, d)
	for _, limit := range []int{0, -1} {
		if n, err := st.PurgeAuthLog(t.Context(), base, limit); err == nil {
			t.Errorf("PurgeAuthLog(limit %d) = %d, nil; want an error", limit, n)
		}
		if n, err := st.PurgeInactiveDevices(t.Context(), base, limit); err == nil {
			t.Errorf("PurgeInactiveDevices(limit %d) = %d, nil; want an error", limit, n)
		}
	}
	checkTimes(t, "entries", authLogTimes(t, st), []time.Time{long})
	checkDevice(t, storedDevice(t, st, d.ID), d)
}

func (s suite) purgeWithCanceledContextChangesNothing(t *testing.T) {
	st := s.newStore(t)
	long := base.Add(-60 * 24 * time.Hour)
	e := fullEntry()
	e.Time = long
	appendEntries(t, st, e)
	d := newDevice(1, "alice", long)
	createDevices(t, st, d)
	canceled := canceledContext()
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"PurgeAuthLog", func(ctx context.Context) error {
			_, err := st.PurgeAuthLog(ctx, base, 100)
			return err
		}},
		{"PurgeInactiveDevices", func(ctx context.Context) error {
			_, err := st.PurgeInactiveDevices(ctx, base, 100)
			return err
		}},
	}
	for _, c := range calls {
		err := returnsWithin(t, c.name, func() error { return c.call(canceled) })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want an error wrapping context.Canceled", c.name, err)
		}
	}
	checkTimes(t, "entries", authLogTimes(t, st), []time.Time{long})
	checkDevice(t, storedDevice(t, st, d.ID), d)
}

func (s sharedSuite) purgeInactiveDevicesOnOneInstanceIsSeenByOther(t *testing.T) {
	a, b := s.newPair(t)
	long := base.Add(-60 * 24 * time.Hour)
	d := newDevice(1, "alice", long)
	createDevices(t, a, d)
	e := fullEntry()
	e.Time = long
	appendEntries(t, a, e)

	purgeInactiveDevices(t, b, base, 100, 1)
	purgeAuthLog(t, b, base, 100, 1)

	if _, err := a.Device(t.Context(), d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Device on the other instance = %v, want ErrNotFound after PurgeInactiveDevices", err)
	}
	checkTimes(t, "entries on the other instance", authLogTimes(t, a), nil)
}
