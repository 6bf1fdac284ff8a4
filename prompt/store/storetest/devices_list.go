package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// listedDevice returns a device for the listing tests: id, user, platform
// and the OS version it stated at activation, created and last seen at
// seen.
func listedDevice(id, user, platform, osVersion string, seen time.Time) store.Device {
	d := newDevice(0, user, seen)
	d.ID, d.Platform, d.OSVersion = id, platform, osVersion
	return d
}

// listDevices calls ListDevices and returns the IDs it lists.
func listDevices(t *testing.T, st store.Store, q store.DeviceQuery) []string {
	t.Helper()
	devices, err := st.ListDevices(t.Context(), q)
	if err != nil {
		t.Fatalf("ListDevices(%+v): %v", q, err)
	}
	return deviceIDs(devices)
}

func (s suite) listDevicesFilters(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	createDevices(t, st,
		listedDevice("a-alice-ios", "alice", "ios", "17.4.1", base),
		listedDevice("b-alice-android", "alice", "android", "13", base.Add(time.Hour)),
		listedDevice("c-bob-ios", "bob", "ios", "16.7", base.Add(2*time.Hour)),
		listedDevice("d-bob-android", "bob", "android", "14", base.Add(3*time.Hour)),
		listedDevice("e-carol-ios", "carol", "ios", "18.0", base.Add(4*time.Hour)),
	)
	for _, r := range []struct {
		id, verdict string
	}{{"a-alice-ios", "trusted"}, {"c-bob-ios", "not trusted"}, {"d-bob-android", "trusted"}} {
		if err := st.RecordHealth(ctx, r.id, json.RawMessage(`{"screen_lock":true}`), r.verdict, base.Add(5*time.Hour)); err != nil {
			t.Fatalf("RecordHealth(%s): %v", r.id, err)
		}
	}
	if err := st.RevokeDevice(ctx, "e-carol-ios", base.Add(6*time.Hour)); err != nil {
		t.Fatalf("RevokeDevice: %v", err)
	}
	yes, no := true, false
	for _, tt := range []struct {
		name string
		q    store.DeviceQuery
		want []string
	}{
		{"no filter leaves out revoked", store.DeviceQuery{}, []string{"a-alice-ios", "b-alice-android", "c-bob-ios", "d-bob-android"}},
		{"include revoked", store.DeviceQuery{IncludeRevoked: true}, []string{"a-alice-ios", "b-alice-android", "c-bob-ios", "d-bob-android", "e-carol-ios"}},
		{"user", store.DeviceQuery{User: "bob"}, []string{"c-bob-ios", "d-bob-android"}},
		{"unknown user", store.DeviceQuery{User: "mallory"}, nil},
		{"platform", store.DeviceQuery{Platform: "ios", IncludeRevoked: true}, []string{"a-alice-ios", "c-bob-ios", "e-carol-ios"}},
		{"trusted", store.DeviceQuery{Trusted: &yes}, []string{"a-alice-ios", "d-bob-android"}},
		{"not trusted includes never reported", store.DeviceQuery{Trusted: &no}, []string{"b-alice-android", "c-bob-ios"}},
		// Devices that reported were seen at base+5h.
		{"seen after", store.DeviceQuery{SeenAfter: base.Add(time.Hour)}, []string{"a-alice-ios", "b-alice-android", "c-bob-ios", "d-bob-android"}},
		{"seen after is inclusive", store.DeviceQuery{SeenAfter: base.Add(5 * time.Hour)}, []string{"a-alice-ios", "c-bob-ios", "d-bob-android"}},
		{"seen before is exclusive", store.DeviceQuery{SeenBefore: base.Add(5 * time.Hour)}, []string{"b-alice-android"}},
		{"seen before and after", store.DeviceQuery{SeenAfter: base.Add(4 * time.Hour), SeenBefore: base.Add(7 * time.Hour), IncludeRevoked: true}, []string{"a-alice-ios", "c-bob-ios", "d-bob-android", "e-carol-ios"}},
		{"os older than, by platform", store.DeviceQuery{OSOlderThan: map[string]string{"ios": "17.5"}}, []string{"a-alice-ios", "c-bob-ios"}},
		{"os older than, both platforms", store.DeviceQuery{OSOlderThan: map[string]string{"ios": "17", "android": "14"}}, []string{"b-alice-android", "c-bob-ios"}},
		{"filters combine", store.DeviceQuery{User: "alice", Platform: "android", Trusted: &no}, []string{"b-alice-android"}},
		{"limit", store.DeviceQuery{Limit: 2}, []string{"a-alice-ios", "b-alice-android"}},
		{"after id", store.DeviceQuery{AfterID: "b-alice-android"}, []string{"c-bob-ios", "d-bob-android"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := listDevices(t, st, tt.q); !slices.Equal(got, tt.want) {
				t.Errorf("ListDevices(%+v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func (s suite) listDevicesComparesOSVersionsByPlatform(t *testing.T) {
	st := s.newStore(t)
	var devices []store.Device
	// Twelve Android devices on 9 to 20, so that "9" < "10" is tested and
	// a page of two needs several batches to fill.
	for v := 9; v <= 20; v++ {
		devices = append(devices, listedDevice(fmt.Sprintf("android-%02d", v), "alice", "android", fmt.Sprint(v), base))
	}
	devices = append(devices,
		listedDevice("ios-9", "bob", "ios", "9", base),                       // 9 < 10, but not Android
		listedDevice("android-bad", "bob", "android", "not a version", base), // unreadable: left out
	)
	createDevices(t, st, devices...)
	// The latest report's version counts, not the one stated at activation.
	if err := st.RecordHealth(t.Context(), "android-20", json.RawMessage(`{"platform":"android","os_version":"8.1"}`), "not trusted", base); err != nil {
		t.Fatalf("RecordHealth: %v", err)
	}
	q := store.DeviceQuery{OSOlderThan: map[string]string{"android": "10"}}
	if got, want := listDevices(t, st, q), []string{"android-09", "android-20"}; !slices.Equal(got, want) {
		t.Errorf("older than android 10: %v, want %v", got, want)
	}
	q.Limit = 1
	if got, want := listDevices(t, st, q), []string{"android-09"}; !slices.Equal(got, want) {
		t.Errorf("first page of one: %v, want %v", got, want)
	}
	q.AfterID = "android-09"
	if got, want := listDevices(t, st, q), []string{"android-20"}; !slices.Equal(got, want) {
		t.Errorf("second page of one, found after ten non-matching devices: %v, want %v", got, want)
	}
	q.AfterID = "android-20"
	if got := listDevices(t, st, q); len(got) != 0 {
		t.Errorf("past the end: %v, want nothing", got)
	}
	if _, err := st.ListDevices(t.Context(), store.DeviceQuery{OSOlderThan: map[string]string{"ios": ""}}); err == nil {
		t.Error("ListDevices with an empty version to compare with: no error")
	}
}

func (s suite) listDevicesPagesStablyUnderInserts(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()
	for i := range 10 {
		createDevices(t, st, listedDevice(fmt.Sprintf("dev-%02d", 2*i+1), "alice", "ios", "17", base.Add(time.Duration(i)*time.Minute)))
	}
	var seen []string
	after := ""
	for page := 0; ; page++ {
		devices, err := st.ListDevices(ctx, store.DeviceQuery{AfterID: after, Limit: 3})
		if err != nil {
			t.Fatalf("ListDevices page %d: %v", page, err)
		}
		if len(devices) == 0 {
			break
		}
		seen = append(seen, deviceIDs(devices)...)
		after = devices[len(devices)-1].ID
		// Between pages: a device sorting before the cursor and one after
		// it are stored, and a listed device reports, which moves its
		// LastSeen; none of it may repeat or skip a device.
		if page < 3 {
			createDevices(t, st,
				listedDevice(fmt.Sprintf("dev-00-before-%d", page), "bob", "android", "14", base),
				listedDevice(after+"-new", "bob", "android", "14", base))
		}
		if err := st.RecordHealth(ctx, devices[0].ID, nil, "trusted", base.Add(time.Hour)); err != nil {
			t.Fatalf("RecordHealth: %v", err)
		}
		if page > 20 {
			t.Fatal("paging does not end")
		}
	}
	var originals []string
	for _, id := range seen {
		if len(id) == len("dev-01") {
			originals = append(originals, id)
		}
	}
	want := make([]string, 10)
	for i := range want {
		want[i] = fmt.Sprintf("dev-%02d", 2*i+1)
	}
	if !slices.Equal(originals, want) {
		t.Errorf("devices stored before paging began, as listed = %v, want each once in order %v", originals, want)
	}
	if !slices.IsSorted(seen) {
		t.Errorf("listed %v, not in ID order", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] == seen[i-1] {
			t.Errorf("%s listed twice", seen[i])
		}
	}
}
