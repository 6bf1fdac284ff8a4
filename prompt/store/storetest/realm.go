package storetest

import (
	"testing"
	"time"
)

// devicesAndActivationsKeepTheirRealm: the realm an activation was issued
// for comes back when it is consumed, and a device's realm comes back from
// every read, including an empty one (a device not bound to a realm).
func (s suite) devicesAndActivationsKeepTheirRealm(t *testing.T) {
	st := s.newStore(t)
	ctx := t.Context()

	bound, unbound := testActivation(1, "alice"), testActivation(2, "alice")
	bound.Realm, unbound.Realm = "users:/srv/b/users.yaml", ""
	createActivations(t, st, bound, unbound)
	for _, want := range []string{bound.CodeHash, unbound.CodeHash} {
		got, err := st.ConsumeActivation(ctx, want, base.Add(time.Minute))
		if err != nil {
			t.Fatalf("ConsumeActivation: %v", err)
		}
		wantRealm := bound.Realm
		if want == unbound.CodeHash {
			wantRealm = ""
		}
		if got.Realm != wantRealm {
			t.Errorf("ConsumeActivation(%s).Realm = %q, want %q", want, got.Realm, wantRealm)
		}
	}

	a, b, legacy := newDevice(1, "alice", base), newDevice(2, "alice", base.Add(time.Second)), newDevice(3, "alice", base.Add(2*time.Second))
	a.Realm, b.Realm, legacy.Realm = "users:/srv/a/users.yaml", "users:/srv/b/users.yaml", ""
	createDevices(t, st, a, b, legacy)
	wantRealms := map[string]string{a.ID: a.Realm, b.ID: b.Realm, legacy.ID: ""}
	for id, want := range wantRealms {
		if got := storedDevice(t, st, id); got.Realm != want {
			t.Errorf("Device(%s).Realm = %q, want %q", id, got.Realm, want)
		}
	}
	listed, err := st.UserDevices(ctx, "alice")
	if err != nil {
		t.Fatalf("UserDevices: %v", err)
	}
	if len(listed) != 3 {
		t.Fatalf("UserDevices = %v, want 3 devices", deviceIDs(listed))
	}
	for _, d := range listed {
		if d.Realm != wantRealms[d.ID] {
			t.Errorf("UserDevices: %s Realm = %q, want %q", d.ID, d.Realm, wantRealms[d.ID])
		}
	}
}
