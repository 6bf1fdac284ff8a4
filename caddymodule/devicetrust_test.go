package caddymodule

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// User agents of the access devices in these tests.
const (
	androidUA = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
	iphoneUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
	desktopUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)

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
`, httpPort, writeUsersFile(t), mode, settings, up.hostPort()))
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
	a := newAgent(t)
	_, link := issueActivation(t, user)
	if _, err := a.Activate(context.Background(), link, info); err != nil {
		t.Fatalf("activating a device for %s: %v", user, err)
	}
	return a
}

func newAgent(t *testing.T) *agent.Agent {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var android14 = agent.DeviceInfo{Platform: "android", Model: "Pixel 8", OSVersion: "14", AppVersion: "1.0.0"}

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

// healthy are the facts of a phone that meets pilotMobile.
func healthy() agent.Facts {
	return agent.Facts{
		Platform: "android", OSVersion: "14", SecurityPatch: "2026-10-05",
		ScreenLock: boolp(true), Biometrics: boolp(true), DiskEncryption: boolp(true), Tampered: boolp(false),
		AppVersion: "1.0.0", Model: "Pixel 8",
	}
}

var (
	appLinkAttr   = regexp.MustCompile(`data-app-link="([^"]+)"`)
	httpsLinkAttr = regexp.MustCompile(`data-https-link="([^"]+)"`)
)

// promptLinks returns the custom-scheme and HTTPS deep links of a prompt page.
func promptLinks(t *testing.T, page string) (app, https string) {
	t.Helper()
	a, h := appLinkAttr.FindStringSubmatch(page), httpsLinkAttr.FindStringSubmatch(page)
	if a == nil || h == nil {
		t.Fatalf("no deep links on the prompt page:\n%s", page)
	}
	return html.UnescapeString(a[1]), html.UnescapeString(h[1])
}

// openPrompt signs b in as user and follows the redirect to the prompt
// page, which it returns.
func openPrompt(t *testing.T, b *browser, user, path string) string {
	t.Helper()
	loc := b.login(user, testUsers[user].password, path)
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
	_, link := promptLinks(t, page)
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
			dev := newDevice(t, "alice", android14)
			b := newPhoneBrowser(t, androidUA)
			page := openPrompt(t, b, "alice", "/reports?q=1")
			if state, _ := verifyStatus(t, b); state != "waiting" {
				t.Errorf("status before the report = %q, want waiting", state)
			}
			rep, ans := inlineCheck(t, dev, page, healthy(), protocol.AnswerApprove)
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

func TestDeviceInlineUntrustedDevice(t *testing.T) {
	noLock := healthy()
	noLock.ScreenLock = boolp(false)

	t.Run("check lets in and records would_block", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "check", pilotMobile)
		dev := newDevice(t, "alice", android14)
		b := newPhoneBrowser(t, androidUA)
		page := openPrompt(t, b, "alice", "/")
		rep, ans := inlineCheck(t, dev, page, noLock, protocol.AnswerApprove)
		if rep.Trusted || len(rep.Failed) != 1 || rep.Failed[0].Reason != "no_screen_lock" || rep.Failed[0].Hint == "" {
			t.Fatalf("verdict = %+v, want not trusted for no_screen_lock with a hint", rep)
		}
		if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther {
			t.Fatalf("return link: %d %s", r.status, r.body)
		}
		v := decodeUpstream(t, b.get(gateURL+"/"))
		if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != "not trusted" {
			t.Errorf("upstream trust header = %q, want not trusted", got)
		}
		e := lastLog(t, "alice")
		if e.Result != "success" || e.TrustStatus != "not trusted" || !e.WouldBlock ||
			len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != "no_screen_lock" || e.Mode != "check" {
			t.Errorf("auth log = %+v, want success, not trusted, would_block no_screen_lock", e)
		}
	})

	t.Run("block denies and names the failed requirement", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "block", pilotMobile)
		dev := newDevice(t, "alice", android14)
		b := newPhoneBrowser(t, androidUA)
		page := openPrompt(t, b, "alice", "/")
		old := healthy()
		old.OSVersion = "13"
		old.ScreenLock = boolp(false)
		rep, _ := inlineCheck(t, dev, page, old, protocol.AnswerApprove)
		if rep.State != store.TransactionDenied || rep.Push != nil {
			t.Fatalf("report = %+v, want denied without a login request", rep)
		}
		state, next := verifyStatus(t, b)
		if state != "denied" || next == "" {
			t.Fatalf("status = %q → %q, want denied with a next page", state, next)
		}
		r := b.get(gateURL + next)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "no_screen_lock") ||
			!strings.Contains(r.body, "screen lock") || !strings.Contains(r.body, "version_restricted") ||
			!strings.Contains(r.body, "Update Android to 14") {
			t.Fatalf("denial page: %d\n%s", r.status, r.body)
		}
		if up.Hits() != 0 {
			t.Errorf("upstream reached %d times", up.Hits())
		}
		e := lastLog(t, "alice")
		if e.Result != "denied" || e.Reason != "endpoint_is_not_trusted" || e.TrustStatus != "not trusted" ||
			e.Factor != "mobile_inline" || len(e.FailedRequirements) != 2 || e.DeviceID != dev.DeviceID() {
			t.Errorf("auth log = %+v", e)
		}
		// Still no session.
		if r := b.get(gateURL + "/"); r.status == http.StatusOK {
			t.Errorf("denied browser reached the upstream")
		}
	})
}

func TestDeviceUserDeniesLoginRequest(t *testing.T) {
	for _, mode := range []string{"check", "block"} {
		t.Run(mode, func(t *testing.T) { testUserDenies(t, mode) })
	}
}

func testUserDenies(t *testing.T, mode string) {
	up := newUpstream(t)
	deviceGateway(t, up, mode, pilotMobile)
	dev := newDevice(t, "alice", android14)
	for _, tc := range []struct{ reason, want string }{
		{"", "user_cancelled"},
		{protocol.DenyFraud, "user_marked_fraud"},
	} {
		b := newPhoneBrowser(t, androidUA)
		page := openPrompt(t, b, "alice", "/")
		_, link := promptLinks(t, page)
		rep, err := dev.Verify(context.Background(), link, healthy())
		if err != nil {
			t.Fatal(err)
		}
		ans, err := dev.Answer(context.Background(), gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: tc.reason})
		if err != nil || ans.State != store.PushDenied || ans.ReturnURL != "" {
			t.Fatalf("deny: %+v, %v", ans, err)
		}
		state, next := verifyStatus(t, b)
		if state != "denied" {
			t.Fatalf("status = %q", state)
		}
		if r := b.get(gateURL + next); r.status != http.StatusForbidden || !strings.Contains(r.body, "denied in the trustgate app") {
			t.Errorf("denial page: %d %s", r.status, r.body)
		}
		e := lastLog(t, "alice")
		if e.Result != "denied" || e.Reason != tc.want || e.Factor != "mobile_inline" {
			t.Errorf("auth log = %+v, want denied %s", e, tc.want)
		}
		if r := b.get(gateURL + "/"); r.status == http.StatusOK {
			t.Errorf("a denied login reached the upstream")
		}
	}
}

func TestDeviceReturnLinkOnlyWorksInItsBrowser(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", android14)
	// A desktop pretends to be a phone and hands the deep link to a healthy
	// phone; the phone's browser never started this sign-in.
	desktop := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, desktop, "alice", "/")
	_, ans := inlineCheck(t, dev, page, healthy(), protocol.AnswerApprove)
	phone := newPhoneBrowser(t, androidUA)
	if r := phone.get(ans.ReturnURL); r.status != http.StatusForbidden {
		t.Fatalf("return link in another browser: %d %s", r.status, r.body)
	}
	if r := phone.get(gateURL + "/"); r.status == http.StatusOK {
		t.Fatal("the other browser got in")
	}
	// Without the return link, the approved check does not complete by
	// polling: the waiting page waits for the app to bring the phone back.
	if _, next := verifyStatus(t, desktop); next != "" {
		t.Errorf("bound check offered %q to the waiting page", next)
	}
	if r := desktop.get(gateURL + "/.trustgate/verify/complete"); r.status == http.StatusSeeOther && r.location == "/" {
		t.Errorf("bound check completed without the return link")
	}
	// A tampered code fails in the right browser too.
	u, _ := url.Parse(ans.ReturnURL)
	q := u.Query()
	q.Set("code", q.Get("code")+"x")
	u.RawQuery = q.Encode()
	if r := desktop.get(u.String()); r.status != http.StatusForbidden {
		t.Errorf("tampered return code: %d", r.status)
	}
}

func TestDeviceUnboundSiteCompletesByPolling(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile+"\n\t\tunbound")
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/app")
	inlineCheck(t, dev, page, healthy(), protocol.AnswerApprove)
	state, next := verifyStatus(t, b)
	if state != "approved" || next == "" {
		t.Fatalf("status = %q → %q", state, next)
	}
	if r := b.get(gateURL + next); r.status != http.StatusSeeOther || r.location != "/app" {
		t.Fatalf("complete: %d %q %s", r.status, r.location, r.body)
	}
	decodeUpstream(t, b.get(gateURL+"/app"))
	if e := lastLog(t, "alice"); !e.Unbound || e.TrustStatus != "trusted" {
		t.Errorf("auth log = %+v, want an unbound trusted login", e)
	}
}

var activationLinkAttr = regexp.MustCompile(`id="activation-link" href="([^"]+)" data-https-link="([^"]+)"`)

func TestDeviceWithoutActivatedApp(t *testing.T) {
	t.Run("check offers to continue and records it", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "check", pilotMobile)
		b := newPhoneBrowser(t, androidUA)
		page := openPrompt(t, b, "alice", "/here")
		if !strings.Contains(page, `id="skip"`) || strings.Contains(page, `id="enroll"`) {
			t.Fatalf("prompt without an app in check mode (enrollment off):\n%s", page)
		}
		r := b.postForm(gateURL+"/.trustgate/verify/skip", url.Values{"csrf": {formCSRF(t, page)}})
		if r.status != http.StatusSeeOther || r.location != "/here" {
			t.Fatalf("skip: %d %q %s", r.status, r.location, r.body)
		}
		decodeUpstream(t, b.get(gateURL+"/here"))
		e := lastLog(t, "alice")
		if e.Result != "success" || e.TrustStatus != "not trusted" || !e.WouldBlock ||
			len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != "no_activated_mobile_app" || e.Factor != "password" {
			t.Errorf("auth log = %+v", e)
		}
	})

	t.Run("block offers no way around; enrollment activates the app", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "block", pilotMobile+"\n\t\tenrollment self block_mode")
		b := newPhoneBrowser(t, androidUA)
		page := openPrompt(t, b, "alice", "/")
		if strings.Contains(page, `id="skip"`) {
			t.Error("block mode offers to skip the check")
		}
		if !strings.Contains(page, `src="data:image/png;base64,`) {
			t.Error("no activation QR code on the prompt")
		}
		m := activationLinkAttr.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no activation link on the prompt:\n%s", page)
		}
		appLink := html.UnescapeString(m[1])
		if !strings.HasPrefix(appLink, "trustgate://activate?") {
			t.Errorf("activation app link = %q", appLink)
		}
		// Skipping is refused even when posted directly.
		if r := b.postForm(gateURL+"/.trustgate/verify/skip", url.Values{}); r.status == http.StatusSeeOther {
			t.Errorf("skip accepted in block mode")
		}
		dev := newAgent(t)
		if _, err := dev.Activate(context.Background(), appLink, android14); err != nil {
			t.Fatalf("activating from the prompt's link: %v", err)
		}
		// The same code does not activate a second device.
		if _, err := newAgent(t).Activate(context.Background(), appLink, android14); agent.ErrorCode(err) != "not_found" {
			t.Errorf("second activation with one code: %v", err)
		}
		page = b.get(gateURL + "/.trustgate/verify").body
		_, ans := inlineCheck(t, dev, page, healthy(), protocol.AnswerApprove)
		if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther {
			t.Fatalf("return: %d %s", r.status, r.body)
		}
		decodeUpstream(t, b.get(gateURL+"/"))
	})
}

func TestDevicePushTimeoutThenPasscode(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tpush_timeout 1s")
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/p")
	rep, _ := inlineCheck(t, dev, page, healthy(), "")
	if rep.Push == nil {
		t.Fatalf("report: %+v", rep)
	}
	time.Sleep(1100 * time.Millisecond)
	state, next := verifyStatus(t, b)
	if state != "timeout" {
		t.Fatalf("status after the push timeout = %q", state)
	}
	if _, err := dev.Answer(context.Background(), gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); agent.ErrorCode(err) != "expired" {
		t.Errorf("late approval: %v, want expired", err)
	}
	r := b.get(gateURL + next)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="timed-out"`) || !strings.Contains(r.body, `action="/.trustgate/verify/passcode"`) {
		t.Fatalf("prompt after timeout: %d\n%s", r.status, r.body)
	}
	if e := lastLog(t, "alice"); e.Result != "denied" || e.Reason != "no_response" {
		t.Errorf("auth log after timeout = %+v, want no_response", e)
	}
	code, err := dev.Passcode(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The passcode form is protected against cross-site posts.
	if r := b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {"forged"}, "passcode": {code}}); r.status != http.StatusForbidden {
		t.Errorf("passcode without CSRF token: %d", r.status)
	}
	r = b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, r.body)}, "passcode": {code}})
	if r.status != http.StatusSeeOther || r.location != "/p" {
		t.Fatalf("passcode: %d %q %s", r.status, r.location, r.body)
	}
	decodeUpstream(t, b.get(gateURL+"/p"))
	e := lastLog(t, "alice")
	if e.Result != "success" || e.Factor != "passcode" || e.Reason != "valid_passcode" || e.TrustStatus != "not trusted" || !e.WouldBlock {
		t.Errorf("auth log = %+v", e)
	}
}

func TestDevicePasscodeLockoutAndReplay(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tpasscode_attempts 3")
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	code, _ := dev.Passcode(time.Now())
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	for i := 0; i < 3; i++ {
		r := b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {wrong}})
		if r.status != http.StatusUnauthorized {
			t.Fatalf("wrong passcode %d: %d", i, r.status)
		}
		page = r.body
	}
	r := b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}})
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("right passcode during lockout: %d, want 429", r.status)
	}
	if e := lastLog(t, "alice"); e.Reason != "locked_out" || e.Factor != "passcode" {
		t.Errorf("auth log = %+v, want locked_out", e)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDevicePushToAnotherDeviceWithNumberMatching(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	other := newDevice(t, "alice", agent.DeviceInfo{Platform: "ios", Model: "iPhone 15", OSVersion: "17.4", AppVersion: "1.0.0"})
	for _, tc := range []struct {
		name   string
		number func(shown string) string
		ok     bool
	}{
		{"right number", func(s string) string { return s }, true},
		{"wrong number", func(s string) string { return fmt.Sprintf("%02d", (atoi(s)-9)%90+10) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newPhoneBrowser(t, androidUA)
			page := openPrompt(t, b, "alice", "/n")
			if !strings.Contains(page, "iPhone 15") {
				t.Errorf("prompt does not name the device to send to")
			}
			r := b.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}})
			if r.status != http.StatusSeeOther {
				t.Fatalf("send push: %d %s", r.status, r.body)
			}
			page = b.get(gateURL + r.location).body
			m := regexp.MustCompile(`id="match-number">(\d\d)<`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no number on the prompt:\n%s", page)
			}
			pushes, err := other.Pushes(context.Background(), 5*time.Second)
			if err != nil || len(pushes) != 1 {
				t.Fatalf("pushes: %v, %v", pushes, err)
			}
			p := pushes[0]
			if !p.NumberMatching || p.Inline || p.Application != "legacy" || p.User != "alice" || p.IP == "" || !strings.Contains(p.AccessDevice, "Android") {
				t.Errorf("push = %+v", p)
			}
			if raw, _ := json.Marshal(p); strings.Contains(string(raw), `"number"`) {
				t.Errorf("the push tells the app the number: %s", raw)
			}
			_, err = other.Answer(context.Background(), gateURL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: tc.number(m[1])})
			if !tc.ok {
				if agent.ErrorCode(err) != "wrong_number" {
					t.Fatalf("wrong number: %v", err)
				}
				state, next := verifyStatus(t, b)
				if state != "denied" || b.get(gateURL+next).status != http.StatusForbidden {
					t.Errorf("after a wrong number: %q", state)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, next := verifyStatus(t, b)
			r = b.get(gateURL + next)
			if r.status != http.StatusSeeOther || r.location != "/n" {
				t.Fatalf("complete: %d %q %s", r.status, r.location, r.body)
			}
			decodeUpstream(t, b.get(gateURL+"/n"))
			if e := lastLog(t, "alice"); e.Factor != "push" || e.TrustStatus != "not trusted" || !e.WouldBlock {
				t.Errorf("auth log = %+v", e)
			}
		})
	}
}

// TestDeviceCannotBeChecked covers every access that the app cannot vouch
// for: check lets it in and records it, block denies it.
func TestDeviceCannotBeChecked(t *testing.T) {
	iosOnly := strings.Replace(pilotMobile, "platforms ios android", "platforms ios", 1)
	disabled := strings.Replace(pilotMobile, "enable groups pilot", "enable disabled", 1)
	for _, tc := range []struct {
		name, mobile, user, ua string
		status, failed         string
	}{
		{"desktop browser", pilotMobile, "alice", desktopUA, "not trusted", "unsupported_platform"},
		{"disabled platform", iosOnly, "alice", androidUA, "not trusted", "unsupported_platform"},
		{"user outside the rollout groups", pilotMobile, "bob", androidUA, "unknown", "device_check_not_enabled"},
		{"integration disabled", disabled, "alice", androidUA, "unknown", "device_check_not_enabled"},
	} {
		for _, mode := range []string{"check", "block"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				up := newUpstream(t)
				deviceGateway(t, up, mode, tc.mobile)
				newDevice(t, tc.user, android14) // an app elsewhere changes nothing
				b := newPhoneBrowser(t, tc.ua)
				r := b.get(gateURL + "/x")
				r = b.get(gateURL + r.location)
				r = b.submitLogin(formCSRF(t, r.body), tc.user, testUsers[tc.user].password)
				loc := r.location
				e := lastLog(t, tc.user)
				if e.TrustStatus != tc.status || len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != tc.failed || e.Mode != mode {
					t.Errorf("auth log = %+v, want %s with %s", e, tc.status, tc.failed)
				}
				if mode == "check" {
					if loc != "/x" {
						t.Fatalf("check: redirected to %q, want /x", loc)
					}
					v := decodeUpstream(t, b.get(gateURL+"/x"))
					if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != tc.status {
						t.Errorf("trust header = %q", got)
					}
					if e.Result != "success" || !e.WouldBlock {
						t.Errorf("check: auth log = %+v, want success with would_block", e)
					}
					return
				}
				if r.status != http.StatusForbidden || !strings.Contains(r.body, tc.failed) {
					t.Fatalf("block: %d → %q, want the denial page naming %s:\n%s", r.status, loc, tc.failed, r.body)
				}
				if e.Result != "denied" || e.Reason != "endpoint_is_not_trusted" {
					t.Errorf("block: auth log = %+v", e)
				}
				if up.Hits() != 0 || b.get(gateURL+"/x").status == http.StatusOK {
					t.Error("block let the request through")
				}
			})
		}
	}
	t.Run("iPhone on an iOS-only site gets the prompt", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "block", iosOnly)
		openPrompt(t, newPhoneBrowser(t, iphoneUA), "alice", "/")
	})
}

func TestDeviceWarnWithDeadline(t *testing.T) {
	noBiometrics := healthy()
	noBiometrics.Biometrics = boolp(false)
	day := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format("2006-01-02") }
	mobile := func(until string) string {
		return strings.Replace(pilotMobile, "require screen_lock not_tampered",
			"require screen_lock not_tampered\n\t\t\twarn biometrics until "+until, 1)
	}

	t.Run("before the deadline: trusted, with a notice", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "block", mobile(day(30)))
		dev := newDevice(t, "alice", android14)
		b := newPhoneBrowser(t, androidUA)
		rep, ans := inlineCheck(t, dev, openPrompt(t, b, "alice", "/w"), noBiometrics, protocol.AnswerApprove)
		if !rep.Trusted || len(rep.Warnings) != 1 || rep.Warnings[0].Reason != "no_biometrics" || rep.Warnings[0].Deadline == nil {
			t.Fatalf("verdict = %+v, want trusted with a no_biometrics warning and its deadline", rep)
		}
		r := b.get(ans.ReturnURL)
		if r.status != http.StatusOK || !strings.Contains(r.body, "no_biometrics") || !strings.Contains(r.body, "Required from") ||
			!strings.Contains(r.body, `href="/w"`) {
			t.Fatalf("notice: %d\n%s", r.status, r.body)
		}
		decodeUpstream(t, b.get(gateURL+"/w"))
		if e := lastLog(t, "alice"); e.TrustStatus != "trusted" || len(e.Warnings) != 1 || e.Warnings[0] != "no_biometrics" {
			t.Errorf("auth log = %+v", e)
		}
	})

	t.Run("after the deadline: required", func(t *testing.T) {
		up := newUpstream(t)
		deviceGateway(t, up, "block", mobile(day(-1)))
		dev := newDevice(t, "alice", android14)
		b := newPhoneBrowser(t, androidUA)
		rep, _ := inlineCheck(t, dev, openPrompt(t, b, "alice", "/w"), noBiometrics, protocol.AnswerApprove)
		if rep.Trusted || rep.State != store.TransactionDenied || len(rep.Failed) != 1 || rep.Failed[0].Reason != "no_biometrics" {
			t.Fatalf("verdict = %+v, want denied for no_biometrics", rep)
		}
	})
}

// trustedSession signs alice in on a checked, healthy phone and returns
// the browser and the device.
func trustedSession(t *testing.T, path string) (*browser, *agent.Agent) {
	t.Helper()
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	_, ans := inlineCheck(t, dev, openPrompt(t, b, "alice", path), healthy(), protocol.AnswerApprove)
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
	dbPath, users := storePath(t), writeUsersFile(t)
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

func TestDeviceAPIRequestWithoutHTMLGets401(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	b, dev := trustedSession(t, "/api")
	if _, err := http.Post(adminURL+"/trusted-endpoints/devices/"+dev.DeviceID()+"/revoke", "application/json", nil); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, gateURL+"/api", nil)
	req.Header.Set("Accept", "application/json")
	if r := b.do(req); r.status != http.StatusUnauthorized || !strings.Contains(r.body, "device check required") {
		t.Errorf("API client after revocation: %d %s", r.status, r.body)
	}
}

// signedRequest sends a device API request with a proof by key, signed for
// signMethod and signPath (normally the request's own).
func signedRequest(t *testing.T, key *ecdsa.PrivateKey, embed bool, method, path, signPath string, body []byte) (*http.Request, string) {
	t.Helper()
	u, _ := url.Parse(gateURL + signPath)
	proof, err := protocol.SignProof(key, embed, method, u, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, gateURL+path, bytes.NewReader(body))
	req.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	req.Header.Set("Content-Type", "application/json")
	return req, proof
}

// apiCall sends req and returns the status and the error code of the body.
func apiCall(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e protocol.Error
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &e)
	if resp.StatusCode >= 400 && e.Error == "" {
		t.Errorf("error response without a message: %d %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, e.Code
}

// activatedKey activates a raw key for user and returns it.
func activatedKey(t *testing.T, user string) *ecdsa.PrivateKey {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	code, _ := issueActivation(t, user)
	body, _ := json.Marshal(protocol.ActivateRequest{Code: code, Platform: "android", Model: "Pixel", OSVersion: "14", AppVersion: "1.0.0"})
	req, _ := signedRequest(t, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
	if status, code := apiCall(t, req); status != http.StatusCreated {
		t.Fatalf("activation: %d %s", status, code)
	}
	return key
}

func TestDeviceAPIRefusesBadProofs(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	key := activatedKey(t, "alice")

	t.Run("replayed proof", func(t *testing.T) {
		req, proof := signedRequest(t, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		if status, _ := apiCall(t, req); status != http.StatusOK {
			t.Fatalf("first use: %d", status)
		}
		again, _ := http.NewRequest(http.MethodGet, gateURL+protocol.PathDevice, nil)
		again.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
		if status, code := apiCall(t, again); status != http.StatusUnauthorized || code != "replayed_proof" {
			t.Errorf("replay: %d %s", status, code)
		}
	})
	t.Run("proof for another URL", func(t *testing.T) {
		req, _ := signedRequest(t, key, false, http.MethodGet, protocol.PathPushes, protocol.PathDevice, nil)
		if status, code := apiCall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("forwarded proof: %d %s", status, code)
		}
	})
	t.Run("proof for another body", func(t *testing.T) {
		req, _ := signedRequest(t, key, false, http.MethodPost, protocol.PathPushes+"/x", protocol.PathPushes+"/x", []byte(`{"answer":"deny"}`))
		req.Body = io.NopCloser(strings.NewReader(`{"answer":"approve"}`))
		req.ContentLength = int64(len(`{"answer":"approve"}`))
		if status, code := apiCall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("changed body: %d %s", status, code)
		}
	})
	t.Run("unknown device key", func(t *testing.T) {
		stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		req, _ := signedRequest(t, stranger, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		if status, code := apiCall(t, req); status != http.StatusUnauthorized || code != "unknown_device" {
			t.Errorf("unknown key: %d %s", status, code)
		}
	})
	t.Run("tampered JWS", func(t *testing.T) {
		req, proof := signedRequest(t, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		parts := strings.Split(proof, ".")
		payload := []byte(parts[1])
		payload[len(payload)/2] ^= 1
		req.Header.Set("Authorization", protocol.AuthScheme+" "+parts[0]+"."+string(payload)+"."+parts[2])
		if status, code := apiCall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("tampered: %d %s", status, code)
		}
	})
	t.Run("no proof", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, gateURL+protocol.PathDevice, nil)
		if status, code := apiCall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("no proof: %d %s", status, code)
		}
	})
}

func TestDeviceAPIReportsAreBoundToTheirTransaction(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	alice := newDevice(t, "alice", android14)
	bob := newDevice(t, "bob", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	_, link := promptLinks(t, page)

	// Bob's device answers for alice's transaction.
	if _, err := bob.Verify(context.Background(), link, healthy()); agent.ErrorCode(err) != "wrong_user" {
		t.Errorf("another user's device: %v, want wrong_user", err)
	}
	// A wrong challenge.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("challenge", "not-the-challenge")
	u.RawQuery = q.Encode()
	if _, err := alice.Verify(context.Background(), u.String(), healthy()); agent.ErrorCode(err) != "wrong_challenge" {
		t.Errorf("wrong challenge: %v", err)
	}
	// An unknown transaction.
	q = u.Query()
	q.Set("tx", "no-such-transaction")
	u.RawQuery = q.Encode()
	if _, err := alice.Verify(context.Background(), u.String(), healthy()); agent.ErrorCode(err) != "not_found" {
		t.Errorf("unknown transaction: %v", err)
	}
	// The right device reports once; a second report is refused.
	if _, err := alice.Verify(context.Background(), link, healthy()); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Verify(context.Background(), link, healthy()); agent.ErrorCode(err) != "conflict" {
		t.Errorf("second report: %v, want conflict", err)
	}
	// Bob cannot answer alice's login request either.
	pushes, err := bob.Pushes(context.Background(), 0)
	if err != nil || len(pushes) != 0 {
		t.Errorf("bob sees alice's requests: %v %v", pushes, err)
	}
}

func TestDeviceAPIRefusesBadJSON(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	key := activatedKey(t, "alice")
	path := protocol.PathReportPrefix + "tx/report"
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"malformed", []byte(`{"challenge":`), http.StatusBadRequest},
		{"not an object", []byte(`[1,2,3]`), http.StatusBadRequest},
		{"unknown field", []byte(`{"challenge":"c","facts":{},"admin":true}`), http.StatusBadRequest},
		{"unknown fact", []byte(`{"challenge":"c","facts":{"platform":"android","rooted_but_fine":true}}`), http.StatusBadRequest},
		{"trailing data", []byte(`{"challenge":"c","facts":{}} {}`), http.StatusBadRequest},
		{"no facts", []byte(`{"challenge":"c"}`), http.StatusBadRequest},
		{"oversized", append(append([]byte(`{"challenge":"`), bytes.Repeat([]byte("a"), 70<<10)...), `"}`...), http.StatusRequestEntityTooLarge},
		{"deeply nested", []byte(`{"challenge":"c","facts":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := signedRequest(t, key, false, http.MethodPost, path, path, tc.body)
			if status, code := apiCall(t, req); status != tc.status || code != "bad_request" {
				t.Errorf("%s: %d %s, want %d bad_request", tc.name, status, code, tc.status)
			}
		})
	}
}

func TestDeviceActivationGuessingIsLimited(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tactivation_attempts 3")
	code, _ := issueActivation(t, "alice")
	try := func(c string) (int, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		body, _ := json.Marshal(protocol.ActivateRequest{Code: c, Platform: "android"})
		req, _ := signedRequest(t, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
		return apiCall(t, req)
	}
	for i := 0; i < 3; i++ {
		if status, c := try(fmt.Sprintf("guess-%d", i)); status != http.StatusNotFound || c != "not_found" {
			t.Fatalf("guess %d: %d %s", i, status, c)
		}
	}
	if status, c := try(code); status != http.StatusTooManyRequests || c != "too_many_requests" {
		t.Errorf("right code after 3 wrong guesses: %d %s, want 429", status, c)
	}
}

func TestDeviceModelNameIsShownEscaped(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	newDevice(t, "alice", agent.DeviceInfo{Platform: "android", Model: evil, OSVersion: "14", AppVersion: "1"})
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Fatalf("device model rendered as HTML:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("device model not shown as text:\n%s", page)
	}
}

func TestDevicePromptFormsNeedTheirCSRFToken(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	openPrompt(t, b, "alice", "/")
	code, _ := dev.Passcode(time.Now())
	for _, path := range []string{"passcode", "push", "skip"} {
		r := b.postForm(gateURL+"/.trustgate/verify/"+path, url.Values{"csrf": {"forged"}, "passcode": {code}})
		if r.status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d", path, r.status)
		}
	}
	if pushes, _ := dev.Pushes(context.Background(), 0); len(pushes) != 0 {
		t.Errorf("a forged post sent a push")
	}
	if r := b.get(gateURL + "/"); r.status == http.StatusOK {
		t.Errorf("a forged post signed in")
	}
}

func TestDevicePushesAreRateLimitedPerUser(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tpush_limit 2 10m")
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	for i := 0; i < 3; i++ {
		r := b.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}})
		want := http.StatusSeeOther
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if r.status != want {
			t.Fatalf("push %d: %d, want %d", i+1, r.status, want)
		}
		page = b.get(gateURL + "/.trustgate/verify").body
	}
	// Pushes from a second browser count against the same user.
	other := newPhoneBrowser(t, androidUA)
	page = openPrompt(t, other, "alice", "/")
	if r := other.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}}); r.status != http.StatusTooManyRequests {
		t.Errorf("push from another browser: %d, want 429", r.status)
	}
	if pushes, _ := dev.Pushes(context.Background(), 0); len(pushes) != 2 {
		t.Errorf("device got %d pushes, want 2", len(pushes))
	}
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
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	if !strings.Contains(page, `href="intent://`+strings.TrimPrefix(gateURL, "http://")+`/.trustgate/app/verify?`) || !strings.Contains(page, "package=com.example.trustgate") ||
		!strings.Contains(page, "S.browser_fallback_url=") {
		t.Errorf("no intent: link on the Android prompt:\n%s", page)
	}
	// An HTTPS app link opened in a browser (no app installed) explains.
	_, https := promptLinks(t, page)
	if r := b.get(https); r.status != http.StatusOK || !strings.Contains(r.body, "Install the trustgate app") {
		t.Errorf("app link fallback: %d %s", r.status, r.body)
	}
}

func TestDeviceContinueButtonWorksWithoutScript(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	if !strings.Contains(page, `action="/.trustgate/verify/next"`) {
		t.Fatal("no Continue button")
	}
	// Before the app answers, Continue comes back to the prompt.
	if r := b.get(gateURL + "/.trustgate/verify/next"); r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Errorf("continue while waiting: %d %q", r.status, r.location)
	}
	tampered := healthy()
	tampered.Tampered = boolp(true)
	inlineCheck(t, dev, page, tampered, "")
	r := b.get(gateURL + "/.trustgate/verify/next")
	if r.status != http.StatusSeeOther {
		t.Fatalf("continue after denial: %d", r.status)
	}
	if r = b.get(gateURL + r.location); r.status != http.StatusForbidden || !strings.Contains(r.body, "rooted_device") {
		t.Errorf("denial after continue: %d %s", r.status, r.body)
	}
}

func TestDeviceLongPollWakesOnNewPush(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	other := newDevice(t, "alice", android14)
	type result struct {
		pushes []protocol.Push
		err    error
		took   time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		p, err := other.Pushes(context.Background(), 20*time.Second)
		done <- result{p, err, time.Since(start)}
	}()
	time.Sleep(300 * time.Millisecond) // let the long-poll start waiting
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	if r := b.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}}); r.status != http.StatusSeeOther {
		t.Fatalf("send push: %d", r.status)
	}
	res := <-done
	if res.err != nil || len(res.pushes) != 1 {
		t.Fatalf("long-poll: %v %v", res.pushes, res.err)
	}
	t.Logf("long-poll answered after %s of a 20s wait", res.took.Round(time.Millisecond))
}

func TestDevicePasscodeWorksOnce(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile)
	dev := newDevice(t, "alice", android14)
	code, _ := dev.Passcode(time.Now())
	first := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, first, "alice", "/")
	if r := first.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}}); r.status != http.StatusSeeOther {
		t.Fatalf("first use: %d %s", r.status, r.body)
	}
	second := newPhoneBrowser(t, androidUA)
	page = openPrompt(t, second, "alice", "/")
	if r := second.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}}); r.status != http.StatusUnauthorized {
		t.Errorf("replayed passcode: %d, want 401", r.status)
	}
}

func TestDeviceSecondFactorWithoutCheckIsDeniedInBlock(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/")
	code, _ := dev.Passcode(time.Now())
	r := b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}})
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "device_not_verified") {
		t.Fatalf("passcode in block mode: %d %s", r.status, r.body)
	}
	if e := lastLog(t, "alice"); e.Result != "denied" || e.Factor != "passcode" || e.Reason != "endpoint_is_not_trusted" {
		t.Errorf("auth log = %+v", e)
	}
	if up.Hits() != 0 {
		t.Error("upstream reached")
	}
}

// An approval whose answer never reached the app (the gateway was killed,
// the network dropped it) can be sent again: the same device gets the same
// answer, with the same return link, never a second one; another device or
// a denial after the approval changes nothing, and once the browser is in
// the request stays answered.
func TestDeviceApprovalSentAgainGetsTheSameReturnLink(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", android14)
	other := newDevice(t, "alice", android14)
	b := newPhoneBrowser(t, androidUA)
	page := openPrompt(t, b, "alice", "/docs")
	rep, first := inlineCheck(t, dev, page, healthy(), protocol.AnswerApprove)
	if first.ReturnURL == "" {
		t.Fatalf("first approval = %+v, want a return link", first)
	}
	ctx := context.Background()
	if _, err := other.Answer(ctx, gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); err == nil {
		t.Fatal("another device answered this device's login request")
	}
	if _, err := dev.Answer(ctx, gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny}); agent.ErrorCode(err) != "already_answered" {
		t.Fatalf("a denial after the approval: %v, want already_answered", err)
	}
	again, err := dev.Answer(ctx, gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil {
		t.Fatalf("approving again: %v", err)
	}
	if again != first {
		t.Fatalf("second approval = %+v, want the first answer %+v", again, first)
	}
	if r := b.get(first.ReturnURL); r.status != http.StatusSeeOther || r.location != "/docs" {
		t.Fatalf("return link: %d → %q (%s)", r.status, r.location, r.body)
	}
	if r := b.get(gateURL + "/docs"); r.status != http.StatusOK {
		t.Fatalf("after the return link: %d", r.status)
	}
	if _, err := dev.Answer(ctx, gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); agent.ErrorCode(err) != "already_answered" {
		t.Fatalf("approving a completed login again: %v, want already_answered", err)
	}
}

// Only failed activations count against an address: several people
// activating at once behind one address (an office's NAT) all succeed, and
// a success does not wipe the failures counted before it.
func TestDeviceActivationsFromOneAddressCountOnlyFailures(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tactivation_attempts 3")
	try := func(c string) (int, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		body, _ := json.Marshal(protocol.ActivateRequest{Code: c, Platform: "android"})
		req, _ := signedRequest(t, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
		return apiCall(t, req)
	}
	const people = 5 // more than activation_attempts
	codes := make([]string, people)
	for i := range codes {
		codes[i], _ = issueActivation(t, "alice")
	}
	statuses := make([]int, people)
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() { statuses[i], _ = try(code) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("activation %d of %d at once from one address: %d, want 201", i+1, people, s)
		}
	}
	for i := 0; i < 2; i++ {
		if status, _ := try(fmt.Sprintf("guess-%d", i)); status != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, status)
		}
	}
	good, _ := issueActivation(t, "alice")
	if status, _ := try(good); status != http.StatusCreated {
		t.Fatalf("right code after 2 wrong guesses: %d", status)
	}
	if status, _ := try("guess-2"); status != http.StatusNotFound {
		t.Fatalf("third guess: %d", status)
	}
	last, _ := issueActivation(t, "alice")
	if status, c := try(last); status != http.StatusTooManyRequests {
		t.Errorf("after 3 wrong guesses (one success between them): %d %s, want 429", status, c)
	}
}
