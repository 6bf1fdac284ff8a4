package caddymodule

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
)

// runningState returns the state that the running test Caddy's app shares
// for the store at dbPath: the same store and trust cache its admin API
// uses. (caddy.ActiveContext is not reliable right after caddytest's first
// load.)
func runningState(t *testing.T, dbPath string) *sharedState {
	t.Helper()
	key := "sqlite:" + dbPath
	val, _, err := sharedPool.LoadOrNew(key, func() (caddy.Destructor, error) {
		return nil, errors.New("no running app uses this store")
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = sharedPool.Delete(key) })
	return val.(*sharedState)
}

// adminPost posts body to the admin endpoint and returns the status and the
// decoded JSON answer.
func adminPost(t *testing.T, path, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(adminURL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST %s: %d, answer is not JSON: %s", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestAdminRevokeEndsDeviceTrustAtOnce(t *testing.T) {
	app := runningState(t, usersGateway(t, newUpstream(t), ""))
	ctx := context.Background()
	now := time.Now()
	dev := store.Device{
		ID: "revoke-test-device", User: "alice", PublicKey: json.RawMessage(`{"kty":"EC"}`),
		Platform: "android", Created: now, LastSeen: now,
	}
	if err := app.Store().CreateDevice(ctx, dev); err != nil {
		t.Fatal(err)
	}
	app.TrustCache().Put("alice", dev.ID, "policy", device.TrustDecision{Status: "trusted", Expires: now.Add(time.Hour)})

	status, out := adminPost(t, "/trusted-endpoints/devices/"+dev.ID+"/revoke", "")
	if status != http.StatusOK || out["id"] != dev.ID || out["user"] != "alice" || out["revoked"] == "" {
		t.Fatalf("revoke: %d %v", status, out)
	}
	if _, ok := app.TrustCache().Get("alice", dev.ID, "policy"); ok {
		t.Fatal("the cached trust decision outlived the revocation")
	}
	stored, err := app.Store().Device(ctx, dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Active() {
		t.Fatal("the store still has the device active")
	}

	// Revoking again keeps the first time.
	status, again := adminPost(t, "/trusted-endpoints/devices/"+dev.ID+"/revoke", "")
	if status != http.StatusOK || again["revoked"] != out["revoked"] {
		t.Fatalf("second revoke: %d %v, first %v", status, again, out)
	}

	status, out = adminPost(t, "/trusted-endpoints/devices/no-such-device/revoke", "")
	if status != http.StatusNotFound || !strings.Contains(out["error"].(string), "no-such-device") {
		t.Fatalf("unknown device: %d %v", status, out)
	}
	status, _ = adminPost(t, "/trusted-endpoints/devices/"+dev.ID+"/delete", "")
	if status != http.StatusNotFound {
		t.Fatalf("unknown action: %d", status)
	}
	resp, err := http.Get(adminURL + "/trusted-endpoints/devices/" + dev.ID + "/revoke")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET revoke: %d", resp.StatusCode)
	}
}

func TestAdminIssuesActivationCodes(t *testing.T) {
	app := runningState(t, usersGateway(t, newUpstream(t), ""))

	before := time.Now()
	status, out := adminPost(t, "/trusted-endpoints/activations",
		`{"user": "alice", "ttl": "30m", "origin": "https://gw.example.com"}`)
	if status != http.StatusCreated || out["user"] != "alice" {
		t.Fatalf("issue: %d %v", status, out)
	}
	code, _ := out["code"].(string)
	if code == "" {
		t.Fatalf("no code in %v", out)
	}
	expires, err := time.Parse(time.RFC3339, out["expires"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if d := expires.Sub(before); d < 29*time.Minute || d > 31*time.Minute {
		t.Fatalf("expires %v after issuing, want 30m", d)
	}
	links, _ := out["links"].(map[string]any)
	wantApp, wantHTTPS := device.ActivationLinks("https://gw.example.com", code)
	if links["app"] != wantApp || links["https"] != wantHTTPS {
		t.Fatalf("links %v, want %s and %s", links, wantApp, wantHTTPS)
	}

	// The store holds the code's hash, for alice, once.
	sum := sha256.Sum256([]byte(code))
	activation, err := app.Store().ConsumeActivation(context.Background(), base64.RawURLEncoding.EncodeToString(sum[:]), time.Now())
	if err != nil {
		t.Fatalf("the issued code is not in the store: %v", err)
	}
	if activation.User != "alice" || activation.Expires.Sub(expires).Abs() >= time.Second {
		t.Fatalf("stored activation %+v", activation)
	}

	status, out = adminPost(t, "/trusted-endpoints/activations", `{"user": "bob"}`)
	if status != http.StatusCreated || out["links"] != nil {
		t.Fatalf("issue without origin: %d %v", status, out)
	}
	expires, _ = time.Parse(time.RFC3339, out["expires"].(string))
	if d := time.Until(expires); d < 9*time.Minute || d > 11*time.Minute {
		t.Fatalf("default ttl: expires in %v, want 10m", d)
	}

	for _, bad := range []struct{ body, mention string }{
		{`{}`, "user is required"},
		{`{"user": "  "}`, "user is required"},
		{`{"user": "alice", "ttl": "forever"}`, `"forever"`},
		{`{"user": "alice", "ttl": "-5m"}`, `"-5m"`},
		{`{"user": "alice", "ttl": "200h"}`, `"200h"`},
		{`{"user": "alice", "origin": "ftp://gw.example.com"}`, `"ftp://gw.example.com"`},
		{`{"user": "alice", "role": "admin"}`, `"role"`},
		{`not json`, "decoding request"},
	} {
		status, out := adminPost(t, "/trusted-endpoints/activations", bad.body)
		msg, _ := out["error"].(string)
		if status != http.StatusBadRequest || !strings.Contains(msg, bad.mention) {
			t.Errorf("%s: %d %v, want 400 mentioning %s", bad.body, status, out, bad.mention)
		}
	}
	resp, err := http.Get(adminURL + "/trusted-endpoints/activations")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET activations: %d", resp.StatusCode)
	}
}
