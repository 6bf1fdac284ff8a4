package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// testJWK is a device public key as the app sends it.
const testJWK = `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`

// fullDevice returns a device of user with every field set, created at
// created, whose ID is derived from n.
func fullDevice(n int, user string, created time.Time) store.Device {
	return store.Device{
		ID:             fmt.Sprintf("thumbprint-%d", n),
		User:           user,
		Realm:          "site:app.example.com",
		PublicKey:      json.RawMessage(testJWK),
		Platform:       "android",
		Model:          "Pixel 9 <b>Pro</b> \"ünïcode\" 📱",
		OSVersion:      "15",
		AppVersion:     "1.4.2",
		PasscodeSecret: "JBSWY3DPEHPK3PXP",
		Created:        created,
		LastSeen:       created.Add(time.Minute),
		Revoked:        created.Add(2 * time.Hour),
		Health:         json.RawMessage(`{"screen_lock":true,"os_version":"15","patch":"2025-02-05"}`),
		Verdict:        "trusted",
		VerifiedAt:     created.Add(time.Minute),
	}
}

// newDevice returns a device as activation stores it: never revoked, no
// health report yet.
func newDevice(n int, user string, created time.Time) store.Device {
	d := fullDevice(n, user, created)
	d.LastSeen, d.Revoked = created, time.Time{}
	d.Health, d.Verdict, d.VerifiedAt = nil, "", time.Time{}
	return d
}

// checkTime reports whether got is want: the zero time for the zero time,
// otherwise the same instant in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if want.IsZero() {
		if !got.IsZero() {
			t.Errorf("%s = %v, want the zero time", what, got)
		}
		return
	}
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
	if got.Location() != time.UTC {
		t.Errorf("%s is in %v, want UTC", what, got.Location())
	}
}

// checkJSON reports whether got holds the same JSON value as want; a nil or
// empty want must come back nil.
func checkJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	if len(want) == 0 {
		if got != nil {
			t.Errorf("%s = %q, want nil", what, got)
		}
		return
	}
	if !jsonEqual(got, want) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// jsonEqual reports whether a and b are the same JSON value, so that a
// backend may store JSON in a normalized form.
func jsonEqual(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// checkDevice reports how got differs from want.
func checkDevice(t *testing.T, got, want store.Device) {
	t.Helper()
	checkTime(t, want.ID+" Created", got.Created, want.Created)
	checkTime(t, want.ID+" LastSeen", got.LastSeen, want.LastSeen)
	checkTime(t, want.ID+" Revoked", got.Revoked, want.Revoked)
	checkTime(t, want.ID+" VerifiedAt", got.VerifiedAt, want.VerifiedAt)
	checkJSON(t, want.ID+" PublicKey", got.PublicKey, want.PublicKey)
	checkJSON(t, want.ID+" Health", got.Health, want.Health)
	// Compare every other field, so that a field added to Device is checked
	// without touching this function.
	got.Created, got.LastSeen, got.Revoked, got.VerifiedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	want.Created, want.LastSeen, want.Revoked, want.VerifiedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	got.PublicKey, got.Health, want.PublicKey, want.Health = nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("device = %+v, want %+v", got, want)
	}
}

// createDevices stores devices in order.
func createDevices(t *testing.T, st store.Store, devices ...store.Device) {
	t.Helper()
	for _, d := range devices {
		if err := st.CreateDevice(t.Context(), d); err != nil {
			t.Fatalf("CreateDevice(%s): %v", d.ID, err)
		}
	}
}

// storedDevice loads device id, failing t if it cannot.
func storedDevice(t *testing.T, st store.Store, id string) store.Device {
	t.Helper()
	d, err := st.Device(t.Context(), id)
	if err != nil {
		t.Fatalf("Device(%s): %v", id, err)
	}
	return d
}

func deviceIDs(devices []store.Device) []string {
	ids := make([]string, len(devices))
	for i, d := range devices {
		ids[i] = d.ID
	}
	return ids
}

func (s suite) createDeviceRoundTripsEveryField(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *store.Device)
	}{
		{"every field", func(d *store.Device) {
			// Times in another zone must come back as the same instant in UTC.
			zone := time.FixedZone("UTC+9", 9*60*60)
			d.Created, d.LastSeen = d.Created.In(zone), d.LastSeen.In(zone)
			d.Revoked, d.VerifiedAt = d.Revoked.In(zone), d.VerifiedAt.In(zone)
		}},
		{"new device without health, never revoked", func(d *store.Device) {
			*d = newDevice(1, "alice", base)
		}},
		{"never seen", func(d *store.Device) { d.LastSeen = time.Time{} }},
		{"nil health and public key", func(d *store.Device) { d.Health, d.PublicKey = nil, nil }},
		{"empty health and public key", func(d *store.Device) {
			d.Health, d.PublicKey = json.RawMessage{}, json.RawMessage{}
		}},
		{"JSON null health", func(d *store.Device) { d.Health = json.RawMessage(`null`) }},
		{"JSON with whitespace and escapes", func(d *store.Device) {
			d.Health = json.RawMessage("{\n  \"model\": \"a\\\"b\\u003c\",\n  \"n\": [1, 2.5, true]\n}")
		}},
		{"only required fields", func(d *store.Device) {
			*d = store.Device{ID: "thumbprint-min", User: "alice", Platform: "ios", Created: base}
		}},
		{"SQL metacharacters", func(d *store.Device) {
			d.ID, d.User, d.Model = "x'); DROP TABLE devices;--", "o'brien", `a"b\c%_`
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := s.newStore(t)
			want := fullDevice(1, "alice", base)
			tt.edit(&want)
			createDevices(t, st, want)
			got := storedDevice(t, st, want.ID)
			checkDevice(t, got, want)
			if got.Active() != want.Revoked.IsZero() {
				t.Errorf("Active() = %v, want %v", got.Active(), want.Revoked.IsZero())
			}
		})
	}
}

func (s suite) createDeviceRejectsDuplicateID(t *testing.T) {
	st := s.newStore(t)
	first := newDevice(1, "alice", base)
	createDevices(t, st, first)

	dup := fullDevice(1, "mallory", base.Add(time.Hour))
	err := st.CreateDevice(t.Context(), dup)
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("CreateDevice with an ID already stored = %v, want ErrConflict", err)
	}
	checkDevice(t, storedDevice(t, st, first.ID), first)
}

func (s suite) deviceOfUnknownIDIsNotFound(t *testing.T) {
	st := s.newStore(t)
	createDevices(t, st, newDevice(1, "alice", base))
	if _, err := st.Device(t.Context(), "thumbprint-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Device of an unknown ID = %v, want ErrNotFound", err)
	}
}

func (s suite) userDevicesListsOnlyThatUserOldestFirst(t *testing.T) {
	st := s.newStore(t)
	minute := func(n int) time.Time { return base.Add(time.Duration(n) * time.Minute) }
	// Stored in an order that is not the order of Created; the last two
	// share a Created time and must come in the order they were stored.
	createDevices(t, st,
		newDevice(1, "alice", minute(2)),
		newDevice(2, "bob", minute(0)),
		newDevice(3, "alice", minute(0)),
		fullDevice(4, "alice", minute(1)), // revoked: still listed
		newDevice(5, "alice", minute(3)),
		newDevice(6, "alice", minute(3)),
		newDevice(7, "Alice", minute(0)),
	)
	tests := []struct {
		user string
		want []string
	}{
		{"alice", []string{"thumbprint-3", "thumbprint-4", "thumbprint-1", "thumbprint-5", "thumbprint-6"}},
		{"bob", []string{"thumbprint-2"}},
		{"Alice", []string{"thumbprint-7"}},
		{"carol", nil},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			got, err := st.UserDevices(t.Context(), tt.user)
			if err != nil {
				t.Fatalf("UserDevices(%s): %v", tt.user, err)
			}
			if !slices.Equal(deviceIDs(got), tt.want) {
				t.Fatalf("UserDevices(%s) = %v, want %v", tt.user, deviceIDs(got), tt.want)
			}
			for _, d := range got {
				checkDevice(t, d, storedDevice(t, st, d.ID))
			}
		})
	}
}

func (s suite) recordHealthUpdatesOnlyHealthVerdictAndLastSeen(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	d, other := newDevice(1, "alice", base), newDevice(2, "alice", base)
	createDevices(t, st, d, other)

	at := base.Add(time.Hour)
	health := json.RawMessage(`{"screen_lock":false}`)
	if err := st.RecordHealth(ctx, d.ID, health, "not trusted", at); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	want := d
	want.Health, want.Verdict, want.VerifiedAt, want.LastSeen = health, "not trusted", at, at
	checkDevice(t, storedDevice(t, st, d.ID), want)
	checkDevice(t, storedDevice(t, st, other.ID), other)

	// A later report replaces the earlier one.
	later := base.Add(2 * time.Hour)
	health = json.RawMessage(`{"screen_lock":true}`)
	if err := st.RecordHealth(ctx, d.ID, health, "trusted", later); err != nil {
		t.Fatalf("second RecordHealth: %v", err)
	}
	want.Health, want.Verdict, want.VerifiedAt, want.LastSeen = health, "trusted", later, later
	checkDevice(t, storedDevice(t, st, d.ID), want)

	if err := st.RecordHealth(ctx, "thumbprint-9", health, "trusted", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordHealth of an unknown device = %v, want ErrNotFound", err)
	}
}

func (s suite) recordHealthDoesNotMoveLastSeenBack(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	d := newDevice(1, "alice", base)
	createDevices(t, st, d)

	at := base.Add(time.Hour)
	if err := st.RecordHealth(ctx, d.ID, d.Health, d.Verdict, at); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	// Reports finish out of order: an earlier one replaces the health and
	// its time but does not move LastSeen back.
	if err := st.RecordHealth(ctx, d.ID, d.Health, d.Verdict, base.Add(20*time.Minute)); err != nil {
		t.Fatalf("RecordHealth with an earlier time: %v", err)
	}
	want := d
	want.VerifiedAt, want.LastSeen = base.Add(20*time.Minute), at
	checkDevice(t, storedDevice(t, st, d.ID), want)
}

func (s suite) recordHealthSetsLastSeenOfDeviceNeverSeen(t *testing.T) {
	st := s.newStore(t)
	d := newDevice(1, "alice", base)
	d.LastSeen = time.Time{}
	createDevices(t, st, d)
	if err := st.RecordHealth(t.Context(), d.ID, d.Health, d.Verdict, base.Add(time.Second)); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	want := d
	want.VerifiedAt, want.LastSeen = base.Add(time.Second), base.Add(time.Second)
	checkDevice(t, storedDevice(t, st, d.ID), want)
}

func (s suite) revokeDeviceKeepsFirstTime(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	d, other := newDevice(1, "alice", base), newDevice(2, "alice", base)
	createDevices(t, st, d, other)

	first := base.Add(time.Hour)
	for i, at := range []time.Time{first, base.Add(2 * time.Hour), base.Add(time.Minute)} {
		if err := st.RevokeDevice(ctx, d.ID, at); err != nil {
			t.Fatalf("RevokeDevice call %d: %v", i+1, err)
		}
	}
	want := d
	want.Revoked = first
	got := storedDevice(t, st, d.ID)
	checkDevice(t, got, want)
	if got.Active() {
		t.Error("revoked device is Active")
	}
	if !storedDevice(t, st, other.ID).Active() {
		t.Error("revoking one device revoked another")
	}

	if err := st.RevokeDevice(ctx, "thumbprint-9", first); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RevokeDevice of an unknown device = %v, want ErrNotFound", err)
	}
}
