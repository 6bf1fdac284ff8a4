package prompt

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// enrollCall sends in, as JSON, in a device API request signed with key
// (embedding it when embed) and returns the gate's answer.
func (d *deviceGate) enrollCall(t *testing.T, key *ecdsa.PrivateKey, embed bool, method, path string, in any) *httptest.ResponseRecorder {
	t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	return d.signedCall(t, key, embed, method, path, body)
}

func TestNewDeviceApprovalLapses(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	d.gate.cfg.Device.Enrollment = device.EnrollApprove
	d.rewire()
	ctx := t.Context()
	newKey, newID, act := d.activatePending(t)
	if want := d.clock.Now().Add(device.DefaultActivationTTL); !act.Approval.Expires.Equal(want) {
		t.Errorf("approval expires %v, want %v", act.Approval.Expires, want)
	}
	approverID, _ := protocol.DeviceID(&d.key.PublicKey)
	pushes, err := d.store.PendingPushes(ctx, approverID, d.clock.Now())
	if err != nil || len(pushes) != 1 {
		t.Fatalf("approval requests: %+v, %v", pushes, err)
	}
	if _, err := d.store.Device(ctx, newID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pending device is in the store: %v", err)
	}

	d.clock.Add(device.DefaultActivationTTL + time.Second)
	w := d.enrollCall(t, d.key, false, http.MethodPost, protocol.PathPushes+"/"+pushes[0].ID,
		protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: act.Approval.Number})
	if w.Code != http.StatusGone {
		t.Fatalf("approval after the request lapsed: %d %s", w.Code, w.Body)
	}
	if _, err := d.store.Device(ctx, newID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a lapsed approval activated the device: %v", err)
	}
	if w := d.enrollCall(t, newKey, false, http.MethodGet, protocol.PathDevice, nil); w.Code != http.StatusUnauthorized {
		t.Fatalf("device whose approval lapsed: %d %s", w.Code, w.Body)
	}
}

func TestEnrollmentSelfInBlockModeIsRefused(t *testing.T) {
	cache, _ := device.NewTrustCache(10, nil)
	base := DeviceTrust{Policy: policy.Policy{Mode: policy.ModeBlock, Integration: policy.Integration{State: policy.All}}, Cache: cache}
	for _, tc := range []struct {
		enrollment device.Enrollment
		blockMode  bool
		ok         bool
	}{
		{"", false, true}, {device.EnrollAdmin, false, true}, {device.EnrollApprove, false, true},
		{device.EnrollSelf, false, false}, {device.EnrollSelf, true, true}, {"maybe", false, false},
	} {
		dt := base
		dt.Enrollment, dt.EnrollmentInBlockMode = tc.enrollment, tc.blockMode
		got, err := dt.withDefaults()
		if (err == nil) != tc.ok {
			t.Errorf("enrollment %q block_mode %v: %v", tc.enrollment, tc.blockMode, err)
		}
		if tc.enrollment == "" && got.Enrollment != device.EnrollAdmin {
			t.Errorf("default enrollment = %q, want admin", got.Enrollment)
		}
	}
}

// TestNewDeviceApprovalWithdrawsTheOtherCopies: the person has two active
// devices; the first to answer an enrollment approval settles it, and the
// copy on the other device is withdrawn (not listed, 409 already_answered),
// as for a login request.
func TestNewDeviceApprovalWithdrawsTheOtherCopies(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	d.gate.cfg.Device.Enrollment = device.EnrollApprove
	d.rewire()
	tablet := d.addDevice(t)
	ctx := t.Context()
	_, newID, act := d.activatePending(t)
	phoneID, _ := protocol.DeviceID(&d.key.PublicKey)
	tabletID, _ := protocol.DeviceID(&tablet.PublicKey)
	phonePushes, err := d.store.PendingPushes(ctx, phoneID, d.clock.Now())
	if err != nil || len(phonePushes) != 1 {
		t.Fatalf("phone's approval requests: %+v, %v", phonePushes, err)
	}
	tabletPushes, err := d.store.PendingPushes(ctx, tabletID, d.clock.Now())
	if err != nil || len(tabletPushes) != 1 {
		t.Fatalf("tablet's approval requests: %+v, %v", tabletPushes, err)
	}
	w := d.enrollCall(t, d.key, false, http.MethodPost, protocol.PathPushes+"/"+phonePushes[0].ID,
		protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: act.Approval.Number})
	if w.Code != http.StatusOK {
		t.Fatalf("approval on the phone: %d %s", w.Code, w.Body)
	}
	if _, err := d.store.Device(ctx, newID); err != nil {
		t.Fatalf("the approved device is not active: %v", err)
	}
	if left, err := d.store.PendingPushes(ctx, tabletID, d.clock.Now()); err != nil || len(left) != 0 {
		t.Fatalf("the tablet still has %+v (%v) after the phone answered", left, err)
	}
	w = d.enrollCall(t, tablet, false, http.MethodPost, protocol.PathPushes+"/"+tabletPushes[0].ID,
		protocol.AnswerRequest{Answer: protocol.AnswerDeny})
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "already_answered") {
		t.Fatalf("answering the withdrawn copy: %d %s", w.Code, w.Body)
	}
	if _, err := d.store.Device(ctx, newID); err != nil {
		t.Fatalf("a late denial on the tablet undid the approval: %v", err)
	}
}

// activatePending activates a new device for alice with a code from d's
// prompt under enrollment approve, and returns its key, its ID and the
// answer, which must say it waits for approval.
func (d *deviceGate) activatePending(t *testing.T) (*ecdsa.PrivateKey, string, protocol.ActivateResponse) {
	t.Helper()
	code, err := d.gate.issuePromptActivation(t.Context(), "alice", d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	newKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	newID, _ := protocol.DeviceID(&newKey.PublicKey)
	w := d.enrollCall(t, newKey, true, http.MethodPost, protocol.PathActivate, protocol.ActivateRequest{Code: code, Platform: "android", Model: "Pixel 9"})
	var act protocol.ActivateResponse
	if err := json.Unmarshal(w.Body.Bytes(), &act); w.Code != http.StatusAccepted || err != nil || act.Approval == nil {
		t.Fatalf("activation under enrollment approve: %d %s", w.Code, w.Body)
	}
	return newKey, newID, act
}
