package prompt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// otherRealm is the ID of a realm no test gate is in.
var otherRealm = session.RealmID("users_file:/srv/other-site/users.yaml")

// addDeviceIn stores a new device of alice bound to realm and returns its key.
func (d *deviceGate) addDeviceIn(t *testing.T, realm string) *ecdsa.PrivateKey {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, _ := protocol.DeviceID(&key.PublicKey)
	jwk, _ := protocol.PublicJWK(&key.PublicKey)
	if err := d.store.CreateDevice(t.Context(), store.Device{ID: id, User: "alice", Realm: realm, PublicKey: jwk,
		Platform: "android", Created: d.clock.Now(), LastSeen: d.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return key
}

// inRealm makes d's gate anew in the realm called realm, as caddymodule
// configures every gate.
func (d *deviceGate) inRealm(t *testing.T, realm string) {
	t.Helper()
	cfg := d.gate.cfg
	cfg.Realm = realm
	g, err := NewGate(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d.gate = g
}

// TestTrustHoldsOnlyForDevicesOfItsRealm: a session's trust holds while its
// device is of the gate's realm or of none; a device of another realm's
// alice does not hold it, even when a site of that realm cached a decision
// for it in the trust cache all sites share.
func TestTrustHoldsOnlyForDevicesOfItsRealm(t *testing.T) {
	t.Parallel()
	a := newAssertionGate(t, policy.ModeBlock, nil, nil)
	b := newAssertionGate(t, policy.ModeBlock, nil, nil)
	if a.realmID == b.realmID || a.policyHash != b.policyHash {
		t.Fatal("the two gates should have one policy and two realms")
	}
	for _, tc := range []struct {
		name  string
		realm string
		holds bool
	}{
		{"this realm", a.realmID, true},
		{"no realm", "", true},
		{"another realm", b.realmID, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "device-" + tc.name
			if err := a.cfg.Store.CreateDevice(t.Context(), store.Device{ID: id, User: "alice", Realm: tc.realm,
				PublicKey: json.RawMessage(`{}`), Platform: "android", Created: a.now, LastSeen: a.now}); err != nil {
				t.Fatal(err)
			}
			s := a.session("s-"+tc.name, "trusted", id)
			a.cache.Purge()
			// Site B vouched for its alice with this device, in the
			// cache all sites of one configuration share.
			a.cache.Put("alice", id, b.trustScope, device.TrustDecision{Status: "trusted", Expires: a.now.Add(time.Hour)})
			if got := a.trustHolds(httptest.NewRequest(http.MethodGet, "/", nil), s); got != tc.holds {
				t.Errorf("trust of a session vouched for by a device of %s holds = %v, want %v", tc.name, got, tc.holds)
			}
		})
	}
}

// TestPushAnswerFromDeviceOfAnotherRealmIsRefused: a login request that
// reached a device of another realm's alice (it never should) cannot be
// approved with it.
func TestPushAnswerFromDeviceOfAnotherRealmIsRefused(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	foreign := d.addDeviceIn(t, otherRealm)
	tx, number, ids := d.startPushLogin(t, foreign)
	w := d.enrollCall(t, foreign, false, http.MethodPost, protocol.PathPushes+"/"+ids[0],
		protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number})
	if w.Code != http.StatusNotFound {
		t.Fatalf("approval by a device of another realm: %d %s, want 404", w.Code, w.Body)
	}
	if got, err := d.store.Transaction(t.Context(), tx.ID); err != nil || got.State != store.TransactionReported {
		t.Fatalf("transaction after the refused approval: %+v, %v", got, err)
	}
	// The same request on a device of the gate's realm is answered.
	own := d.addDeviceIn(t, d.gate.realmID)
	_, number, ids = d.startPushLogin(t, own)
	if w := d.enrollCall(t, own, false, http.MethodPost, protocol.PathPushes+"/"+ids[0],
		protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number}); w.Code != http.StatusOK {
		t.Fatalf("approval by a device of the gate's realm: %d %s", w.Code, w.Body)
	}
}

// TestPromptCodesBindDevicesToTheirRealm: a code from the prompt carries
// the site's realm; under enrollment approve only the devices of that realm
// (and unbound ones) are asked, and the approved device is bound to it. A
// gate given no realm, whose made-up realm a restart replaces, binds to
// none.
func TestPromptCodesBindDevicesToTheirRealm(t *testing.T) {
	t.Parallel()
	t.Run("configured realm", func(t *testing.T) {
		d := newDeviceGate(t, policy.Requirements{}) // alice's unbound phone
		d.inRealm(t, "users_file:/srv/this-site/users.yaml")
		if got := approvedDeviceRealm(t, d); got != d.gate.realmID {
			t.Errorf("approved device's realm = %q, want the gate's %q", got, d.gate.realmID)
		}
	})
	t.Run("no realm configured", func(t *testing.T) {
		d := newDeviceGate(t, policy.Requirements{})
		if got := approvedDeviceRealm(t, d); got != "" {
			t.Errorf("approved device's realm = %q, want none", got)
		}
	})
}

// approvedDeviceRealm enrolls a new device for alice from d's prompt under
// enrollment approve, checking that alice's device of another realm is not
// asked, approves it with her first phone and returns its realm.
func approvedDeviceRealm(t *testing.T, d *deviceGate) string {
	t.Helper()
	d.gate.cfg.Device.Enrollment = device.EnrollApprove
	d.rewire()
	foreign := d.addDeviceIn(t, otherRealm)
	ctx := t.Context()
	_, newID, act := d.activatePending(t)
	foreignID, _ := protocol.DeviceID(&foreign.PublicKey)
	if pushes, err := d.store.PendingPushes(ctx, foreignID, d.clock.Now()); err != nil || len(pushes) != 0 {
		t.Fatalf("the device of another realm was asked to approve: %+v, %v", pushes, err)
	}
	phoneID, _ := protocol.DeviceID(&d.key.PublicKey)
	pushes, err := d.store.PendingPushes(ctx, phoneID, d.clock.Now())
	if err != nil || len(pushes) != 1 {
		t.Fatalf("the unbound phone's approval requests: %+v, %v", pushes, err)
	}
	if w := d.enrollCall(t, d.key, false, http.MethodPost, protocol.PathPushes+"/"+pushes[0].ID,
		protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: act.Approval.Number}); w.Code != http.StatusOK {
		t.Fatalf("approval: %d %s", w.Code, w.Body)
	}
	dev, err := d.store.Device(ctx, newID)
	if err != nil {
		t.Fatal(err)
	}
	return dev.Realm
}
