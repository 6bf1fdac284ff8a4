package caddymodule

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// The device check's flows (inline checks, pushes, passcodes, the device
// API) are tested at the gate, in parallel, in prompt's deviceflows_test.go
// and deviceapiflows_test.go (prompt/gatetest). The tests here are of the
// wiring through Caddy: the Caddyfile's settings and placeholders, the
// admin API's revocation, a reload with another policy; the helpers serve
// the other Caddy-level tests of this package.

// pilotMobile is the mobile block of most tests: alice (in pilot) is in
// scope, bob is not.
const pilotMobile = `mobile {
			enable groups pilot
			platforms ios android
			require screen_lock not_tampered
			min_os android 14
			min_os ios 17
		}`

// deviceGateway starts a gateway that protects up with a users file and the
// device check in mode, configured by settings (lines inside the
// trusted_endpoints block). It returns the store path.
func deviceGateway(t *testing.T, up *upstream, mode, settings string) string {
	t.Helper()
	dbPath := storePath(t)
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		mode %s
		%s
	}
	reverse_proxy %s {
		header_up X-Placeholder-Trust {trusted_endpoints.trust}
		header_up X-Placeholder-Device {trusted_endpoints.device_id}
	}
}
`, httpPort, gatetest.WriteUsersFile(t), mode, settings, up.hostPort()))
	return dbPath
}

// uaTransport sends every request with one user agent, as a phone's
// browser does.
type uaTransport struct{ ua string }

func (u uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", u.ua)
	return http.DefaultTransport.RoundTrip(r)
}

// newPhoneBrowser returns a browser that sends ua.
func newPhoneBrowser(t *testing.T, ua string) *browser {
	b := newBrowser(t)
	b.client.Transport = uaTransport{ua}
	return b
}

// newDevice returns a reference agent with a fresh key, activated for user
// through an admin-issued activation link.
func newDevice(t *testing.T, user string, info agent.DeviceInfo) *agent.Agent {
	t.Helper()
	a := gatetest.NewAgent(t, nil)
	_, link := issueActivation(t, user)
	if _, err := a.Activate(context.Background(), link, info); err != nil {
		t.Fatalf("activating a device for %s: %v", user, err)
	}
	return a
}

// issueActivation issues an activation code for user through the admin
// API and returns it with its HTTPS link.
func issueActivation(t *testing.T, user string) (code, link string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user})
	resp, err := http.Post(adminURL+"/trusted-endpoints/activations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("issuing activation: %d %s", resp.StatusCode, raw)
	}
	var out struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Code == "" {
		t.Fatalf("activation response %s: %v", raw, err)
	}
	_, link = device.ActivationLinks(gateURL, out.Code)
	return out.Code, link
}

func boolp(b bool) *bool { return &b }

// openPrompt signs b in as user and follows the redirect to the prompt
// page, which it returns.
func openPrompt(t *testing.T, b *browser, user, path string) string {
	t.Helper()
	loc := b.login(user, gatetest.Users[user].Password, path)
	if loc != "/.trustgate/verify" {
		t.Fatalf("after login: redirected to %q, want the prompt", loc)
	}
	r := b.get(gateURL + loc)
	if r.status != http.StatusOK {
		t.Fatalf("prompt page: %d %s", r.status, r.body)
	}
	return r.body
}

// verifyStatus reads the waiting page's status.
func verifyStatus(t *testing.T, b *browser) (state, next string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/.trustgate/verify/status", nil)
	req.Header.Set("Accept", "application/json")
	r := b.do(req)
	var s struct{ State, Next string }
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		t.Fatalf("status: %d %s", r.status, r.body)
	}
	return s.State, s.Next
}

// inlineCheck runs the device side of an inline check: report facts for the
// prompt's deep link and, when asked to approve, approve the login request.
// It returns the report and the answer.
func inlineCheck(t *testing.T, dev *agent.Agent, page string, facts agent.Facts, answer string) (protocol.ReportResponse, protocol.AnswerResponse) {
	t.Helper()
	ctx := context.Background()
	_, link := gatetest.PromptLinks(t, page)
	rep, err := dev.Verify(ctx, link, facts)
	if err != nil {
		t.Fatalf("health report: %v", err)
	}
	if rep.State != store.TransactionReported || answer == "" {
		return rep, protocol.AnswerResponse{}
	}
	if rep.Push == nil || !rep.Push.Inline {
		t.Fatalf("report answered %+v, want an inline login request", rep)
	}
	ans, err := dev.Answer(ctx, gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: answer})
	if err != nil {
		t.Fatalf("answering the login request: %v", err)
	}
	return rep, ans
}

// lastLog returns the newest auth-log entry of user.
func lastLog(t *testing.T, user string) store.AuthLogEntry {
	t.Helper()
	entries := authLog(t, "user="+user+"&limit=1")
	if len(entries) == 0 {
		t.Fatalf("no auth-log entry for %s", user)
	}
	return entries[0]
}

func TestDeviceInlineTrustedDevice(t *testing.T) {
	for _, mode := range []string{"check", "block"} {
		t.Run(mode, func(t *testing.T) {
			up := newUpstream(t)
			deviceGateway(t, up, mode, pilotMobile)
			dev := newDevice(t, "alice", gatetest.Android14)
			b := newPhoneBrowser(t, gatetest.AndroidUA)
			page := openPrompt(t, b, "alice", "/reports?q=1")
			if state, _ := verifyStatus(t, b); state != "waiting" {
				t.Errorf("status before the report = %q, want waiting", state)
			}
			rep, ans := inlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
			if !rep.Trusted || len(rep.Failed) != 0 {
				t.Errorf("verdict = %+v, want trusted", rep)
			}
			if ans.State != store.PushApproved || ans.ReturnURL == "" {
				t.Fatalf("answer = %+v, want approved with a return URL", ans)
			}
			if state, _ := verifyStatus(t, b); state != "approved" {
				t.Errorf("status after approval = %q, want approved", state)
			}
			// The app opens the return link in the phone's browser.
			r := b.get(ans.ReturnURL)
			if r.status != http.StatusSeeOther || r.location != "/reports?q=1" {
				t.Fatalf("return link: %d → %q, want 303 to /reports?q=1 (%s)", r.status, r.location, r.body)
			}
			v := decodeUpstream(t, b.get(gateURL+"/reports?q=1"))
			if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != "trusted" {
				t.Errorf("upstream trust header = %q, want trusted", got)
			}
			if got := v.Headers["X-Trustgate-Device-Id"]; len(got) != 1 || got[0] != dev.DeviceID() {
				t.Errorf("upstream device header = %q, want %s", got, dev.DeviceID())
			}
			if got := v.Headers["X-Placeholder-Trust"]; len(got) != 1 || got[0] != "trusted" {
				t.Errorf("{trusted_endpoints.trust} = %q", got)
			}
			if got := v.Headers["X-Placeholder-Device"]; len(got) != 1 || got[0] != dev.DeviceID() {
				t.Errorf("{trusted_endpoints.device_id} = %q", got)
			}
			e := lastLog(t, "alice")
			if e.Result != "success" || e.Factor != "mobile_inline" || e.TrustStatus != "trusted" || e.Mode != mode ||
				e.DeviceID != dev.DeviceID() || e.WouldBlock || e.Unbound || len(e.DeviceFacts) == 0 ||
				e.AccessDevice.Kind != "android_phone" {
				t.Errorf("auth log = %+v", e)
			}
			// The return link is single use.
			if r := b.get(ans.ReturnURL); r.status == http.StatusSeeOther {
				t.Errorf("return link worked twice")
			}
		})
	}
}

var activationLinkAttr = regexp.MustCompile(`id="activation-link" href="([^"]+)" data-https-link="([^"]+)"`)

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestDeviceCannotBeChecked covers every access that the app cannot vouch
// for: check lets it in and records it, block denies it.
// trustedSession signs alice in on a checked, healthy phone and returns
// the browser and the device.
func trustedSession(t *testing.T, path string) (*browser, *agent.Agent) {
	t.Helper()
	dev := newDevice(t, "alice", gatetest.Android14)
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	_, ans := inlineCheck(t, dev, openPrompt(t, b, "alice", path), gatetest.Healthy(), protocol.AnswerApprove)
	if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	decodeUpstream(t, b.get(gateURL+path))
	return b, dev
}

func TestDeviceRevocationTakesEffectOnTheNextRequest(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	b, dev := trustedSession(t, "/r")
	resp, err := http.Post(adminURL+"/trusted-endpoints/devices/"+dev.DeviceID()+"/revoke", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	r := b.get(gateURL + "/r")
	if r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("next request after revocation: %d → %q, want the prompt", r.status, r.location)
	}
	// The revoked device can no longer answer.
	if _, err := dev.Device(context.Background()); agent.ErrorCode(err) != "revoked_device" {
		t.Errorf("revoked device's request: %v", err)
	}
}

func TestDevicePolicyChangeChecksAgain(t *testing.T) {
	up := newUpstream(t)
	dbPath, users := storePath(t), gatetest.WriteUsersFile(t)
	gateway := func(mobile string) {
		startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		mode block
		%s
	}
	reverse_proxy %s
}
`, httpPort, users, mobile, up.hostPort()))
	}
	gateway(pilotMobile)
	b, _ := trustedSession(t, "/pc")
	// Reload with a stricter policy on the same store (same cookie keys)
	// and the same users file (same realm).
	gateway(strings.Replace(pilotMobile, "min_os android 14", "min_os android 15", 1))
	r := b.get(gateURL + "/pc")
	if r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("after a policy change: %d → %q, want the prompt", r.status, r.location)
	}
}

// signedRequest sends a device API request with a proof by key, signed for
// signMethod and signPath (normally the request's own).
func signedRequest(t *testing.T, key *ecdsa.PrivateKey, embed bool, method, path, signPath string, body []byte) (*http.Request, string) {
	return gatetest.SignedRequest(t, gateURL, key, embed, method, path, signPath, body)
}

// activatedKey activates a raw key for user and returns it.
func activatedKey(t *testing.T, user string) *ecdsa.PrivateKey {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	code, _ := issueActivation(t, user)
	body, _ := json.Marshal(protocol.ActivateRequest{Code: code, Platform: "android", Model: "Pixel", OSVersion: "14", AppVersion: "1.0.0"})
	req, _ := signedRequest(t, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
	if status, code := gatetest.APICall(t, req); status != http.StatusCreated {
		t.Fatalf("activation: %d %s", status, code)
	}
	return key
}

func TestDeviceAppLinkFilesAreServed(t *testing.T) {
	up := newUpstream(t)
	fp := strings.TrimSuffix(strings.Repeat("AB:", 32), ":")
	deviceGateway(t, up, "check", pilotMobile+`
		app_links {
			apple ABCDE12345.com.example.trustgate
			android com.example.trustgate `+fp+`
		}`)
	get := func(path string) (int, string, string) {
		resp, err := http.Get(gateURL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
	}
	status, ctype, body := get("/.well-known/apple-app-site-association")
	if status != http.StatusOK || ctype != "application/json" || !strings.Contains(body, "ABCDE12345.com.example.trustgate") || !strings.Contains(body, "/.trustgate/app/verify") {
		t.Errorf("apple-app-site-association: %d %s %s", status, ctype, body)
	}
	status, ctype, body = get("/.well-known/assetlinks.json")
	if status != http.StatusOK || ctype != "application/json" || !strings.Contains(body, "com.example.trustgate") || !strings.Contains(body, fp) {
		t.Errorf("assetlinks.json: %d %s %s", status, ctype, body)
	}
	if up.Hits() != 0 {
		t.Error("the link files reached the upstream")
	}
	// The prompt on Android offers the intent: link with a browser fallback.
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	page := openPrompt(t, b, "alice", "/")
	if !strings.Contains(page, `href="intent://`+strings.TrimPrefix(gateURL, "http://")+`/.trustgate/app/verify?`) || !strings.Contains(page, "package=com.example.trustgate") ||
		!strings.Contains(page, "S.browser_fallback_url=") {
		t.Errorf("no intent: link on the Android prompt:\n%s", page)
	}
	// An HTTPS app link opened in a browser (no app installed) explains.
	_, https := gatetest.PromptLinks(t, page)
	if r := b.get(https); r.status != http.StatusOK || !strings.Contains(r.body, "Install the trustgate app") {
		t.Errorf("app link fallback: %d %s", r.status, r.body)
	}
}

// An approval whose answer never reached the app (the gateway was killed,
// the network dropped it) can be sent again: the same device gets the same
// answer, with the same return link, never a second one; another device or
// a denial after the approval changes nothing, and once the browser is in
// the request stays answered.
// Only failed activations count against an address: several people
// activating at once behind one address (an office's NAT) all succeed, and
// a success does not wipe the failures counted before it.
