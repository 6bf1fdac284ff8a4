package prompt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/internal/testclock"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// deviceGate is a gate with a device check on a real SQLite store and an
// injected clock, with one activated device for alice.
type deviceGate struct {
	gate  *Gate
	store store.Store
	clock *testclock.Clock
	key   *ecdsa.PrivateKey
}

func newDeviceGate(t *testing.T, req policy.Requirements) *deviceGate {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := testclock.New(time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC))
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(clock.Now())}, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	users, err := signin.ParseUsers([]byte(`{"users":[{"username":"alice","password_hash":"$2a$04$abcdefghijklmnopqrstuu5s2z0JkHPnhL3ZsLeX6bX6SaWO0C8wK"}]}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := device.NewTrustCache(100, clock.Now)
	g, err := NewGate(Config{
		Application: "legacy", Users: users, Store: st, Cookies: codec, Now: clock.Now,
		Device: &DeviceTrust{
			Policy: policy.Policy{Mode: policy.ModeBlock, Integration: policy.Integration{State: policy.All}, Requirements: req},
			Cache:  cache,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	id, _ := protocol.DeviceID(&key.PublicKey)
	jwk, _ := protocol.PublicJWK(&key.PublicKey)
	if err := st.CreateDevice(t.Context(), store.Device{ID: id, User: "alice", PublicKey: jwk, Platform: "android", Created: clock.Now(), LastSeen: clock.Now()}); err != nil {
		t.Fatal(err)
	}
	return &deviceGate{gate: g, store: st, clock: clock, key: key}
}

// startInline starts an inline transaction for alice as her phone's
// browser would, and returns it with its challenge.
func (d *deviceGate) startInline(t *testing.T) (*device.Transaction, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "http://gw.test/", nil)
	r.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
	p := &pendingLogin{Identity: session.Identity{User: "alice"}, Factor: "password", Secret: secret.Token()}
	challenge := secret.Token()
	tx, err := d.gate.newTransaction(t.Context(), r, p, "/", device.KindInline, store.TransactionPending, device.Record{ChallengeHash: secret.Hash(challenge)})
	if err != nil {
		t.Fatal(err)
	}
	return tx, challenge
}

// report posts a signed health report for tx and returns the response.
func (d *deviceGate) report(t *testing.T, txID, challenge string, facts policy.Facts) *httptest.ResponseRecorder {
	t.Helper()
	rawFacts, _ := json.Marshal(facts)
	body, _ := json.Marshal(protocol.ReportRequest{Challenge: challenge, Facts: rawFacts})
	u, _ := url.Parse("http://gw.test" + protocol.PathReportPrefix + txID + "/report")
	proof, err := protocol.SignProof(d.key, false, http.MethodPost, u, body, d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	w := httptest.NewRecorder()
	if _, handled := d.gate.Authenticate(w, r); !handled {
		t.Fatal("device API request was not handled")
	}
	return w
}

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

func TestReportForExpiredTransactionIsRefused(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	tx, challenge := d.startInline(t)
	d.clock.Add(session.FlowLifetime + time.Second)
	w := d.report(t, tx.ID, challenge, policy.Facts{Platform: policy.Android, OSVersion: "14"})
	var e protocol.Error
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	if w.Code != http.StatusGone || e.Code != "expired" {
		t.Fatalf("report after expiry: %d %s", w.Code, w.Body)
	}
	got, _ := d.store.Transaction(t.Context(), tx.ID)
	if got.State != store.TransactionPending || got.DeviceID != "" {
		t.Errorf("expired transaction changed: %+v", got)
	}
}

func TestStaleProofIsRefused(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	tx, challenge := d.startInline(t)
	// The device's clock is two minutes behind the gateway's.
	d.clock.Add(-2 * time.Minute)
	rawFacts, _ := json.Marshal(policy.Facts{Platform: policy.Android})
	body, _ := json.Marshal(protocol.ReportRequest{Challenge: challenge, Facts: rawFacts})
	u, _ := url.Parse("http://gw.test" + protocol.PathReportPrefix + tx.ID + "/report")
	proof, _ := protocol.SignProof(d.key, false, http.MethodPost, u, body, d.clock.Now())
	d.clock.Add(2 * time.Minute)
	r := httptest.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	w := httptest.NewRecorder()
	d.gate.Authenticate(w, r)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("stale proof: %d %s", w.Code, w.Body)
	}
}

// The deadline of a warn requirement, on the gateway's own clock: a
// warning until the deadline, a refusal after it.
func TestWarnDeadlineFollowsTheClock(t *testing.T) {
	t.Parallel()
	deadline := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	req := policy.Requirements{Biometrics: policy.Rule{Level: policy.Warn, Until: deadline}}
	facts := policy.Facts{Platform: policy.Android, OSVersion: "14", Biometrics: no(), ScreenLock: yes()}
	for _, tc := range []struct {
		name  string
		at    time.Time
		state string
	}{
		{"a day before", deadline.Add(-24 * time.Hour), store.TransactionReported},
		{"at the deadline", deadline, store.TransactionReported},
		{"a second after", deadline.Add(time.Second), store.TransactionDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeviceGate(t, req)
			d.clock.Set(tc.at)
			tx, challenge := d.startInline(t)
			w := d.report(t, tx.ID, challenge, facts)
			var resp protocol.ReportResponse
			if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != http.StatusOK {
				t.Fatalf("report: %d %s", w.Code, w.Body)
			}
			if resp.State != tc.state {
				t.Errorf("state = %s, want %s (%s)", resp.State, tc.state, w.Body)
			}
			findings := resp.Warnings
			if tc.state == store.TransactionDenied {
				findings = resp.Failed
			}
			if len(findings) != 1 || findings[0].Reason != "no_biometrics" || findings[0].Deadline == nil || !findings[0].Deadline.Equal(deadline) {
				t.Errorf("findings = %+v, want no_biometrics with its deadline", findings)
			}
		})
	}
}

// A signed-in request with valid, cached trust reads no storage: it keeps
// working with the store closed. Without the cached decision it must read
// the device, and with the store gone it fails closed.
func TestTrustedSessionNeedsNoStorage(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	deviceID, _ := protocol.DeviceID(&d.key.PublicKey)
	login := httptest.NewRequest(http.MethodGet, "http://gw.test/", nil)
	w := httptest.NewRecorder()
	trust := session.Trust{Status: "trusted", DeviceID: deviceID, Expires: d.clock.Now().Add(time.Hour)}
	if _, err := d.gate.startSession(w, login, session.Identity{User: "alice"}, factorMobileInline, &trust); err != nil {
		t.Fatal(err)
	}
	d.gate.cfg.Device.Cache.Put("alice", deviceID, d.gate.trustScope, device.TrustDecision{Status: "trusted", Expires: trust.Expires})
	cookie := w.Result().Cookies()[0]
	request := func() (*session.Session, bool) {
		r := httptest.NewRequest(http.MethodGet, "http://gw.test/app", nil)
		r.Header.Set("Accept", "text/html")
		r.AddCookie(cookie)
		return d.gate.Authenticate(httptest.NewRecorder(), r)
	}
	if err := d.store.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if s, handled := request(); handled || s.Trust != "trusted" || s.DeviceID != deviceID {
			t.Fatalf("request %d with the store closed: handled=%v session=%+v", i, handled, s)
		}
	}
	// The decision is evicted (a restart, a full cache) while storage is
	// down: the session's own trust still counts.
	d.gate.cfg.Device.Cache.Resize(1)
	d.gate.cfg.Device.Cache.Put("bob", "other-device", d.gate.trustScope, device.TrustDecision{Status: "trusted", Expires: trust.Expires})
	if s, handled := request(); handled || s.Trust != "trusted" {
		t.Errorf("evicted decision with storage down: handled=%v", handled)
	}
	// A device this instance knows to be revoked is refused even so.
	d.gate.cfg.Device.Cache.RevokeDevice(deviceID)
	if _, handled := request(); !handled {
		t.Error("a revoked device's session went through while storage was down")
	}
}

// longPoll sends the device's GET of its pushes with ?wait=wait and returns
// the recorder once the gate has answered.
func (d *deviceGate) longPoll(t *testing.T, wait int) *httptest.ResponseRecorder {
	t.Helper()
	u, _ := url.Parse("http://gw.test" + protocol.PathPushes)
	proof, err := protocol.SignProof(d.key, false, http.MethodGet, u, nil, d.clock.Now())
	if err != nil {
		t.Error(err)
		return httptest.NewRecorder()
	}
	r := httptest.NewRequest(http.MethodGet, u.String()+"?wait="+strconv.Itoa(wait), nil)
	r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	w := httptest.NewRecorder()
	d.gate.Authenticate(w, r)
	return w
}

// rewire rebuilds the gate's device service and device API after the test
// changed the gate's configuration.
func (d *deviceGate) rewire() {
	if d.gate.cfg.Device != nil {
		d.gate.devices = d.gate.newDeviceService()
	}
	d.gate.deviceAPI = d.gate.newDeviceAPI()
}

// held reports whether a long-poll of deviceID is waiting on the gate.
func (d *deviceGate) held(deviceID string) bool {
	return d.gate.wake.Held(deviceID)
}

// When a reload retires the gate, a held long-poll answers at once with an
// empty list (the device polls again and reaches the new configuration),
// and a poll reaching the retired gate afterwards is not held either.
func TestRetiredGateEndsHeldLongPollAtOnce(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	retire := make(chan struct{})
	d.gate.cfg.Retired = retire
	d.rewire()
	deviceID, _ := protocol.DeviceID(&d.key.PublicKey)

	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() { answered <- d.longPoll(t, 30) }()
	deadline := time.Now().Add(10 * time.Second)
	for !d.held(deviceID) {
		if time.Now().After(deadline) {
			t.Fatal("the long-poll was never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case w := <-answered:
		t.Fatalf("the long-poll answered before the gate was retired: %d %s", w.Code, w.Body)
	default:
	}
	retired := time.Now()
	close(retire)
	// The wait is 30 s; anything near it means the retirement was missed.
	var w *httptest.ResponseRecorder
	select {
	case w = <-answered:
	case <-time.After(15 * time.Second):
		t.Fatal("the held long-poll did not answer when the gate was retired")
	}
	t.Logf("the held long-poll answered %s after the gate was retired", time.Since(retired).Round(time.Millisecond))
	var resp protocol.PushesResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || w.Code != http.StatusOK || resp.Pushes == nil || len(resp.Pushes) != 0 {
		t.Fatalf("held long-poll on retirement: %d %s, want 200 with an empty list", w.Code, w.Body)
	}
	if d.held(deviceID) {
		t.Error("the answered long-poll is still registered with the waker")
	}

	start := time.Now()
	w = d.longPoll(t, 30)
	if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"pushes":[]`)) {
		t.Fatalf("long-poll on the retired gate: %d %s", w.Code, w.Body)
	}
	if waited := time.Since(start); waited > 15*time.Second {
		t.Errorf("a long-poll on the retired gate was held %s", waited)
	}
}

// When the process exits, a held long-poll answers within about a second,
// so that it does not hold up the exit for its whole wait.
func TestExitingProcessEndsHeldLongPoll(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	var exiting atomic.Bool
	d.gate.cfg.Exiting = exiting.Load
	d.rewire()
	deviceID, _ := protocol.DeviceID(&d.key.PublicKey)
	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() { answered <- d.longPoll(t, 30) }()
	deadline := time.Now().Add(10 * time.Second)
	for !d.held(deviceID) {
		if time.Now().After(deadline) {
			t.Fatal("the long-poll was never held")
		}
		time.Sleep(10 * time.Millisecond)
	}
	exiting.Store(true)
	select {
	case w := <-answered:
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"pushes":[]`)) {
			t.Fatalf("held long-poll on exit: %d %s, want 200 with an empty list", w.Code, w.Body)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the held long-poll did not answer when the process began to exit")
	}
}
