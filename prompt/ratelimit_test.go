package prompt

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// limitedDeviceGate is newDeviceGate with limits.
func limitedDeviceGate(t *testing.T, l deviceapi.Limits) *deviceGate {
	d := newDeviceGate(t, policy.Requirements{})
	l.Now = d.clock.Now
	lim, err := deviceapi.NewLimiter(l)
	if err != nil {
		t.Fatal(err)
	}
	d.gate.cfg.Limiter = lim
	d.rewire()
	return d
}

// deviceGet sends a signed GET of path from addr with d's device key.
func (d *deviceGate) deviceGet(t *testing.T, path, addr string) *httptest.ResponseRecorder {
	t.Helper()
	u, _ := url.Parse("http://gw.test" + path)
	proof, err := protocol.SignProof(d.key, false, http.MethodGet, u, nil, d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, u.String(), nil)
	r.RemoteAddr = addr + ":40000"
	r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	w := httptest.NewRecorder()
	d.gate.Authenticate(w, r)
	return w
}

func wantRateLimited(t *testing.T, w *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	var e protocol.Error
	_ = json.Unmarshal(w.Body.Bytes(), &e)
	if w.Code != http.StatusTooManyRequests || e.Code != "rate_limited" || e.Error == "" {
		t.Fatalf("answered %d %s, want 429 rate_limited", w.Code, w.Body)
	}
	if got := w.Header().Get("Retry-After"); got != retryAfter {
		t.Errorf("Retry-After %q, want %q", got, retryAfter)
	}
	if w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("429 headers: %v", w.Header())
	}
}

func TestDeviceAPIRateLimitsEachDeviceWhereverItComesFrom(t *testing.T) {
	t.Parallel()
	d := limitedDeviceGate(t, deviceapi.Limits{Device: deviceapi.Rate{Events: 1, Per: 10 * time.Second, Burst: 2}})
	for i, addr := range []string{"192.0.2.1", "198.51.100.7"} {
		if w := d.deviceGet(t, protocol.PathDevice, addr); w.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	wantRateLimited(t, d.deviceGet(t, protocol.PathDevice, "203.0.113.9"), "10")
	d.clock.Add(10 * time.Second)
	if w := d.deviceGet(t, protocol.PathDevice, "203.0.113.9"); w.Code != http.StatusOK {
		t.Fatalf("after Retry-After: %d %s", w.Code, w.Body)
	}
}

// Naming a device's key in a proof that does not verify costs that device
// nothing: its bucket is charged only for proofs it really signed.
func TestDeviceBucketIsNotChargedForForgedProofs(t *testing.T) {
	t.Parallel()
	d := limitedDeviceGate(t, deviceapi.Limits{Device: deviceapi.Rate{Events: 1, Per: time.Hour, Burst: 1}})
	u, _ := url.Parse("http://gw.test" + protocol.PathDevice)
	for i := range 5 {
		proof, err := protocol.SignProof(d.key, false, http.MethodGet, u, nil, d.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		head, _, _ := strings.Cut(proof, ".")
		forged := head + ".e30." + strings.Repeat("A", 86) // the device's kid, not its signature
		r := httptest.NewRequest(http.MethodGet, u.String(), nil)
		r.RemoteAddr = fmt.Sprintf("198.51.100.%d:40000", i+1)
		r.Header.Set("Authorization", protocol.AuthScheme+" "+forged)
		w := httptest.NewRecorder()
		d.gate.Authenticate(w, r)
		if w.Code != http.StatusUnauthorized {
			t.Fatalf("forged proof %d: %d %s, want 401", i+1, w.Code, w.Body)
		}
	}
	if w := d.deviceGet(t, protocol.PathDevice, "192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("the device's own request after forged ones: %d %s", w.Code, w.Body)
	}
	wantRateLimited(t, d.deviceGet(t, protocol.PathDevice, "192.0.2.1"), "3600")
}

func TestDeviceAPIRateLimitsEachAddress(t *testing.T) {
	t.Parallel()
	d := limitedDeviceGate(t, deviceapi.Limits{IP: deviceapi.Rate{Events: 1, Per: time.Minute, Burst: 1}})
	if w := d.deviceGet(t, protocol.PathDevice, "192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("first request: %d %s", w.Code, w.Body)
	}
	// Any endpoint, any device, signed or not: the address's bucket is
	// taken before anything else is looked at.
	r := httptest.NewRequest(http.MethodGet, protocol.PathPushes, nil)
	r.RemoteAddr = "192.0.2.1:40000"
	w := httptest.NewRecorder()
	d.gate.Authenticate(w, r)
	wantRateLimited(t, w, "60")
	if w := d.deviceGet(t, protocol.PathDevice, "192.0.2.2"); w.Code != http.StatusOK {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
}

func TestDeviceAPIRateLimitsActivationsPerAddress(t *testing.T) {
	t.Parallel()
	d := limitedDeviceGate(t, deviceapi.Limits{Activation: deviceapi.Rate{Events: 2, Per: time.Minute}})
	activate := func(addr string) *httptest.ResponseRecorder {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		body, _ := json.Marshal(protocol.ActivateRequest{Code: "guess", Platform: "android"})
		u, _ := url.Parse("http://gw.test" + protocol.PathActivate)
		proof, err := protocol.SignProof(key, true, http.MethodPost, u, body, d.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
		r.RemoteAddr = addr + ":40000"
		r.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
		w := httptest.NewRecorder()
		d.gate.Authenticate(w, r)
		return w
	}
	for i := range 2 {
		if w := activate("192.0.2.1"); w.Code != http.StatusNotFound {
			t.Fatalf("guess %d: %d %s, want 404", i+1, w.Code, w.Body)
		}
	}
	wantRateLimited(t, activate("192.0.2.1"), "30")
	// The device's other requests from that address are not activations.
	if w := d.deviceGet(t, protocol.PathDevice, "192.0.2.1"); w.Code != http.StatusOK {
		t.Fatalf("device request from the address: %d %s", w.Code, w.Body)
	}
	if w := activate("192.0.2.2"); w.Code != http.StatusNotFound {
		t.Fatalf("another address: %d %s", w.Code, w.Body)
	}
}
