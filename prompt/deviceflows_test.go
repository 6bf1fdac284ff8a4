package prompt_test

// The device check's flows at the gate: a browser signs in, the reference
// agent reports and answers, and the test reads the browser, the upstream
// and the auth log. Moved from caddymodule, where they ran one after
// another through one Caddy; each builds its own gate (gatetest).

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

func boolp(b bool) *bool { return &b }

// atoi reads a string of digits.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// trustedSession signs alice in on a checked, healthy phone and returns
// the browser and the device.
func trustedSession(t *testing.T, gw *gatetest.Gateway, path string) (*gatetest.Browser, *agent.Agent) {
	t.Helper()
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	_, ans := gw.InlineCheck(t, dev, b.OpenPrompt("alice", path), gatetest.Healthy(), protocol.AnswerApprove)
	if r := b.Get(ans.ReturnURL); r.Status != http.StatusSeeOther {
		t.Fatalf("return: %d %s", r.Status, r.Body)
	}
	gatetest.DecodeUpstream(t, b.Get(path))
	return b, dev
}

var activationLinkAttr = regexp.MustCompile(`id="activation-link" href="([^"]+)" data-https-link="([^"]+)"`)

func TestDeviceInlineUntrustedDevice(t *testing.T) {
	t.Parallel()
	noLock := gatetest.Healthy()
	noLock.ScreenLock = boolp(false)

	t.Run("check lets in and records would_block", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
		dev := gw.Activate(t, "alice", gatetest.Android14)
		b := gw.NewBrowser(gatetest.AndroidUA)
		page := b.OpenPrompt("alice", "/")
		rep, ans := gw.InlineCheck(t, dev, page, noLock, protocol.AnswerApprove)
		if rep.Trusted || len(rep.Failed) != 1 || rep.Failed[0].Reason != "no_screen_lock" || rep.Failed[0].Hint == "" {
			t.Fatalf("verdict = %+v, want not trusted for no_screen_lock with a hint", rep)
		}
		if r := b.Get(ans.ReturnURL); r.Status != http.StatusSeeOther {
			t.Fatalf("return link: %d %s", r.Status, r.Body)
		}
		v := gatetest.DecodeUpstream(t, b.Get("/"))
		if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != "not trusted" {
			t.Errorf("upstream trust header = %q, want not trusted", got)
		}
		e := gw.LastLog(t, "alice")
		if e.Result != "success" || e.TrustStatus != "not trusted" || !e.WouldBlock ||
			len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != "no_screen_lock" || e.Mode != "check" {
			t.Errorf("auth log = %+v, want success, not trusted, would_block no_screen_lock", e)
		}
	})

	t.Run("block denies and names the failed requirement", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
		dev := gw.Activate(t, "alice", gatetest.Android14)
		b := gw.NewBrowser(gatetest.AndroidUA)
		page := b.OpenPrompt("alice", "/")
		old := gatetest.Healthy()
		old.OSVersion = "13"
		old.ScreenLock = boolp(false)
		rep, _ := gw.InlineCheck(t, dev, page, old, protocol.AnswerApprove)
		if rep.State != store.TransactionDenied || rep.Push != nil {
			t.Fatalf("report = %+v, want denied without a login request", rep)
		}
		state, next := b.VerifyStatus()
		if state != "denied" || next == "" {
			t.Fatalf("status = %q → %q, want denied with a next page", state, next)
		}
		r := b.Get(next)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "no_screen_lock") ||
			!strings.Contains(r.Body, "screen lock") || !strings.Contains(r.Body, "version_restricted") ||
			!strings.Contains(r.Body, "Update Android to 14") || !strings.Contains(r.Body, `data-integration="mobile"`) {
			t.Fatalf("denial page: %d\n%s", r.Status, r.Body)
		}
		if gw.Hits() != 0 {
			t.Errorf("upstream reached %d times", gw.Hits())
		}
		e := gw.LastLog(t, "alice")
		if e.Result != "denied" || e.Reason != "endpoint_is_not_trusted" || e.TrustStatus != "not trusted" ||
			e.Factor != "mobile_inline" || len(e.FailedRequirements) != 2 || e.DeviceID != dev.DeviceID() || e.Integration != "mobile" {
			t.Errorf("auth log = %+v", e)
		}
		// Still no session.
		if r := b.Get("/"); r.Status == http.StatusOK {
			t.Errorf("denied browser reached the upstream")
		}
	})
}

func TestDeviceUserDeniesLoginRequest(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"check", "block"} {
		t.Run(mode, func(t *testing.T) { testUserDenies(t, mode) })
	}
}

func testUserDenies(t *testing.T, mode string) {
	gw := gatetest.New(t, gatetest.Options{Mode: policy.Mode(mode)})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	for _, tc := range []struct{ reason, want string }{
		{"", "user_cancelled"},
		{protocol.DenyFraud, "user_marked_fraud"},
	} {
		b := gw.NewBrowser(gatetest.AndroidUA)
		page := b.OpenPrompt("alice", "/")
		_, link := gatetest.PromptLinks(t, page)
		rep, err := dev.Verify(context.Background(), link, gatetest.Healthy())
		if err != nil {
			t.Fatal(err)
		}
		ans, err := dev.Answer(context.Background(), gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: tc.reason})
		if err != nil || ans.State != store.PushDenied || ans.ReturnURL != "" {
			t.Fatalf("deny: %+v, %v", ans, err)
		}
		state, next := b.VerifyStatus()
		if state != "denied" {
			t.Fatalf("status = %q", state)
		}
		if r := b.Get(next); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "denied in the trustgate app") {
			t.Errorf("denial page: %d %s", r.Status, r.Body)
		}
		e := gw.LastLog(t, "alice")
		if e.Result != "denied" || e.Reason != tc.want || e.Factor != "mobile_inline" || e.Integration != "mobile" {
			t.Errorf("auth log = %+v, want denied %s", e, tc.want)
		}
		if r := b.Get("/"); r.Status == http.StatusOK {
			t.Errorf("a denied login reached the upstream")
		}
	}
}

func TestDeviceReturnLinkOnlyWorksInItsBrowser(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	// A desktop pretends to be a phone and hands the deep link to a healthy
	// phone; the phone's browser never started this sign-in.
	desktop := gw.NewBrowser(gatetest.AndroidUA)
	page := desktop.OpenPrompt("alice", "/")
	_, ans := gw.InlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
	phone := gw.NewBrowser(gatetest.AndroidUA)
	if r := phone.Get(ans.ReturnURL); r.Status != http.StatusForbidden {
		t.Fatalf("return link in another browser: %d %s", r.Status, r.Body)
	}
	if r := phone.Get("/"); r.Status == http.StatusOK {
		t.Fatal("the other browser got in")
	}
	// Without the return link, the approved check does not complete by
	// polling: the waiting page waits for the app to bring the phone back.
	if _, next := desktop.VerifyStatus(); next != "" {
		t.Errorf("bound check offered %q to the waiting page", next)
	}
	if r := desktop.Get("/.trustgate/verify/complete"); r.Status == http.StatusSeeOther && r.Location == "/" {
		t.Errorf("bound check completed without the return link")
	}
	// A tampered code fails in the right browser too.
	u, _ := url.Parse(ans.ReturnURL)
	q := u.Query()
	q.Set("code", q.Get("code")+"x")
	u.RawQuery = q.Encode()
	if r := desktop.Get(u.String()); r.Status != http.StatusForbidden {
		t.Errorf("tampered return code: %d", r.Status)
	}
}

func TestDeviceUnboundSiteCompletesByPolling(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock, Device: func(d *prompt.DeviceTrust) { d.Unbound = true }})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/app")
	gw.InlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
	state, next := b.VerifyStatus()
	if state != "approved" || next == "" {
		t.Fatalf("status = %q → %q", state, next)
	}
	if r := b.Get(next); r.Status != http.StatusSeeOther || r.Location != "/app" {
		t.Fatalf("complete: %d %q %s", r.Status, r.Location, r.Body)
	}
	gatetest.DecodeUpstream(t, b.Get("/app"))
	if e := gw.LastLog(t, "alice"); !e.Unbound || e.TrustStatus != "trusted" {
		t.Errorf("auth log = %+v, want an unbound trusted login", e)
	}
}

func TestDeviceWithoutActivatedApp(t *testing.T) {
	t.Parallel()
	t.Run("check offers to continue and records it", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
		b := gw.NewBrowser(gatetest.AndroidUA)
		page := b.OpenPrompt("alice", "/here")
		if !strings.Contains(page, `id="skip"`) || strings.Contains(page, `id="enroll"`) {
			t.Fatalf("prompt without an app in check mode (enrollment off):\n%s", page)
		}
		r := b.PostForm("/.trustgate/verify/skip", url.Values{"csrf": {gatetest.FormCSRF(t, page)}})
		if r.Status != http.StatusSeeOther || r.Location != "/here" {
			t.Fatalf("skip: %d %q %s", r.Status, r.Location, r.Body)
		}
		gatetest.DecodeUpstream(t, b.Get("/here"))
		e := gw.LastLog(t, "alice")
		if e.Result != "success" || e.TrustStatus != "not trusted" || !e.WouldBlock ||
			len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != "no_activated_mobile_app" || e.Factor != "password" {
			t.Errorf("auth log = %+v", e)
		}
	})

	t.Run("block offers no way around; enrollment activates the app", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock, Device: func(d *prompt.DeviceTrust) { d.Enrollment, d.EnrollmentInBlockMode = device.EnrollSelf, true }})
		b := gw.NewBrowser(gatetest.AndroidUA)
		page := b.OpenPrompt("alice", "/")
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
		if r := b.PostForm("/.trustgate/verify/skip", url.Values{}); r.Status == http.StatusSeeOther {
			t.Errorf("skip accepted in block mode")
		}
		dev := gatetest.NewAgent(t, nil)
		if _, err := dev.Activate(context.Background(), appLink, gatetest.Android14); err != nil {
			t.Fatalf("activating from the prompt's link: %v", err)
		}
		// The same code does not activate a second device.
		if _, err := gatetest.NewAgent(t, nil).Activate(context.Background(), appLink, gatetest.Android14); agent.ErrorCode(err) != "not_found" {
			t.Errorf("second activation with one code: %v", err)
		}
		page = b.Get("/.trustgate/verify").Body
		_, ans := gw.InlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
		if r := b.Get(ans.ReturnURL); r.Status != http.StatusSeeOther {
			t.Fatalf("return: %d %s", r.Status, r.Body)
		}
		gatetest.DecodeUpstream(t, b.Get("/"))
	})
}

func TestDevicePushTimeoutThenPasscode(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck, Device: func(d *prompt.DeviceTrust) { d.PushTimeout = time.Second }})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/p")
	rep, _ := gw.InlineCheck(t, dev, page, gatetest.Healthy(), "")
	if rep.Push == nil {
		t.Fatalf("report: %+v", rep)
	}
	time.Sleep(1100 * time.Millisecond)
	state, next := b.VerifyStatus()
	if state != "timeout" {
		t.Fatalf("status after the push timeout = %q", state)
	}
	if _, err := dev.Answer(context.Background(), gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); agent.ErrorCode(err) != "expired" {
		t.Errorf("late approval: %v, want expired", err)
	}
	r := b.Get(next)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `id="timed-out"`) || !strings.Contains(r.Body, `action="/.trustgate/verify/passcode"`) {
		t.Fatalf("prompt after timeout: %d\n%s", r.Status, r.Body)
	}
	if e := gw.LastLog(t, "alice"); e.Result != "denied" || e.Reason != "no_response" {
		t.Errorf("auth log after timeout = %+v, want no_response", e)
	}
	code, err := dev.Passcode(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// The passcode form is protected against cross-site posts.
	if r := b.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {"forged"}, "passcode": {code}}); r.Status != http.StatusForbidden {
		t.Errorf("passcode without CSRF token: %d", r.Status)
	}
	r = b.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, r.Body)}, "passcode": {code}})
	if r.Status != http.StatusSeeOther || r.Location != "/p" {
		t.Fatalf("passcode: %d %q %s", r.Status, r.Location, r.Body)
	}
	gatetest.DecodeUpstream(t, b.Get("/p"))
	e := gw.LastLog(t, "alice")
	if e.Result != "success" || e.Factor != "passcode" || e.Reason != "valid_passcode" || e.TrustStatus != "not trusted" || !e.WouldBlock {
		t.Errorf("auth log = %+v", e)
	}
}

func TestDevicePasscodeLockoutAndReplay(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck, Device: func(d *prompt.DeviceTrust) { d.PasscodeAttempts = 3 }})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	code, _ := dev.Passcode(time.Now())
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	for i := 0; i < 3; i++ {
		r := b.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, page)}, "passcode": {wrong}})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong passcode %d: %d", i, r.Status)
		}
		page = r.Body
	}
	r := b.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, page)}, "passcode": {code}})
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("right passcode during lockout: %d, want 429", r.Status)
	}
	if e := gw.LastLog(t, "alice"); e.Reason != "locked_out" || e.Factor != "passcode" {
		t.Errorf("auth log = %+v, want locked_out", e)
	}
}

func TestDevicePushToAnotherDeviceWithNumberMatching(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	other := gw.Activate(t, "alice", agent.DeviceInfo{Platform: "ios", Model: "iPhone 15", OSVersion: "17.4", AppVersion: "1.0.0"})
	for _, tc := range []struct {
		name   string
		number func(shown string) string
		ok     bool
	}{
		{"right number", func(s string) string { return s }, true},
		{"wrong number", func(s string) string { return fmt.Sprintf("%02d", (atoi(s)-9)%90+10) }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := gw.NewBrowser(gatetest.AndroidUA)
			page := b.OpenPrompt("alice", "/n")
			if !strings.Contains(page, "iPhone 15") {
				t.Errorf("prompt does not name the device to send to")
			}
			r := b.PostForm("/.trustgate/verify/push", url.Values{"csrf": {gatetest.FormCSRF(t, page)}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("send push: %d %s", r.Status, r.Body)
			}
			page = b.Get(r.Location).Body
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
			_, err = other.Answer(context.Background(), gw.URL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: tc.number(m[1])})
			if !tc.ok {
				if agent.ErrorCode(err) != "wrong_number" {
					t.Fatalf("wrong number: %v", err)
				}
				state, next := b.VerifyStatus()
				if state != "denied" || b.Get(next).Status != http.StatusForbidden {
					t.Errorf("after a wrong number: %q", state)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, next := b.VerifyStatus()
			r = b.Get(next)
			if r.Status != http.StatusSeeOther || r.Location != "/n" {
				t.Fatalf("complete: %d %q %s", r.Status, r.Location, r.Body)
			}
			gatetest.DecodeUpstream(t, b.Get("/n"))
			if e := gw.LastLog(t, "alice"); e.Factor != "push" || e.TrustStatus != "not trusted" || !e.WouldBlock {
				t.Errorf("auth log = %+v", e)
			}
		})
	}
}

func TestDeviceCannotBeChecked(t *testing.T) {
	t.Parallel()
	iosOnly := func(p *policy.Policy) { p.Integration.Platforms = []policy.Platform{policy.IOS} }
	disabled := func(p *policy.Policy) { p.Integration = policy.Integration{State: policy.Disabled} }
	for _, tc := range []struct {
		name           string
		mobile         func(*policy.Policy)
		user, ua       string
		status, failed string
	}{
		{"desktop browser", nil, "alice", gatetest.DesktopUA, "not trusted", "unsupported_platform"},
		{"disabled platform", iosOnly, "alice", gatetest.AndroidUA, "not trusted", "unsupported_platform"},
		{"user outside the rollout groups", nil, "bob", gatetest.AndroidUA, "unknown", "device_check_not_enabled"},
		{"integration disabled", disabled, "alice", gatetest.AndroidUA, "unknown", "device_check_not_enabled"},
	} {
		for _, mode := range []string{"check", "block"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				gw := gatetest.New(t, gatetest.Options{Mode: policy.Mode(mode), Policy: tc.mobile})
				gw.Activate(t, tc.user, gatetest.Android14) // an app elsewhere changes nothing
				b := gw.NewBrowser(tc.ua)
				r := b.Get("/x")
				r = b.Get(r.Location)
				r = b.SubmitLogin(gatetest.FormCSRF(t, r.Body), tc.user, gatetest.Users[tc.user].Password)
				loc := r.Location
				e := gw.LastLog(t, tc.user)
				if e.TrustStatus != tc.status || len(e.FailedRequirements) != 1 || e.FailedRequirements[0] != tc.failed || e.Mode != mode {
					t.Errorf("auth log = %+v, want %s with %s", e, tc.status, tc.failed)
				}
				if mode == "check" {
					if loc != "/x" {
						t.Fatalf("check: redirected to %q, want /x", loc)
					}
					v := gatetest.DecodeUpstream(t, b.Get("/x"))
					if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != tc.status {
						t.Errorf("trust header = %q", got)
					}
					if e.Result != "success" || !e.WouldBlock {
						t.Errorf("check: auth log = %+v, want success with would_block", e)
					}
					return
				}
				if r.Status != http.StatusForbidden || !strings.Contains(r.Body, tc.failed) {
					t.Fatalf("block: %d → %q, want the denial page naming %s:\n%s", r.Status, loc, tc.failed, r.Body)
				}
				if e.Result != "denied" || e.Reason != "endpoint_is_not_trusted" {
					t.Errorf("block: auth log = %+v", e)
				}
				if gw.Hits() != 0 || b.Get("/x").Status == http.StatusOK {
					t.Error("block let the request through")
				}
			})
		}
	}
	t.Run("iPhone on an iOS-only site gets the prompt", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock, Policy: iosOnly})
		gw.NewBrowser(gatetest.IPhoneUA).OpenPrompt("alice", "/")
	})
}

func TestDeviceWarnWithDeadline(t *testing.T) {
	t.Parallel()
	noBiometrics := gatetest.Healthy()
	noBiometrics.Biometrics = boolp(false)
	day := func(days int) string { return time.Now().UTC().AddDate(0, 0, days).Format("2006-01-02") }
	mobile := func(until string) func(*policy.Policy) {
		deadline, err := time.Parse(time.DateOnly, until)
		if err != nil {
			t.Fatal(err)
		}
		return func(p *policy.Policy) {
			p.Requirements.Biometrics = policy.Rule{Level: policy.Warn, Until: deadline}
		}
	}

	t.Run("before the deadline: trusted, with a notice", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock, Policy: mobile(day(30))})
		dev := gw.Activate(t, "alice", gatetest.Android14)
		b := gw.NewBrowser(gatetest.AndroidUA)
		rep, ans := gw.InlineCheck(t, dev, b.OpenPrompt("alice", "/w"), noBiometrics, protocol.AnswerApprove)
		if !rep.Trusted || len(rep.Warnings) != 1 || rep.Warnings[0].Reason != "no_biometrics" || rep.Warnings[0].Deadline == nil {
			t.Fatalf("verdict = %+v, want trusted with a no_biometrics warning and its deadline", rep)
		}
		r := b.Get(ans.ReturnURL)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "no_biometrics") || !strings.Contains(r.Body, "Required from") ||
			!strings.Contains(r.Body, `href="/w"`) {
			t.Fatalf("notice: %d\n%s", r.Status, r.Body)
		}
		gatetest.DecodeUpstream(t, b.Get("/w"))
		if e := gw.LastLog(t, "alice"); e.TrustStatus != "trusted" || len(e.Warnings) != 1 || e.Warnings[0] != "no_biometrics" {
			t.Errorf("auth log = %+v", e)
		}
	})

	t.Run("after the deadline: required", func(t *testing.T) {
		t.Parallel()
		gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock, Policy: mobile(day(-1))})
		dev := gw.Activate(t, "alice", gatetest.Android14)
		b := gw.NewBrowser(gatetest.AndroidUA)
		rep, _ := gw.InlineCheck(t, dev, b.OpenPrompt("alice", "/w"), noBiometrics, protocol.AnswerApprove)
		if rep.Trusted || rep.State != store.TransactionDenied || len(rep.Failed) != 1 || rep.Failed[0].Reason != "no_biometrics" {
			t.Fatalf("verdict = %+v, want denied for no_biometrics", rep)
		}
	})
}

func TestDeviceAPIRequestWithoutHTMLGets401(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	b, dev := trustedSession(t, gw, "/api")
	gw.Revoke(t, dev.DeviceID())
	req, _ := http.NewRequest(http.MethodGet, gw.URL+"/api", nil)
	req.Header.Set("Accept", "application/json")
	if r := b.Do(req); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "device check required") {
		t.Errorf("API client after revocation: %d %s", r.Status, r.Body)
	}
}

func TestDeviceModelNameIsShownEscaped(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	gw.Activate(t, "alice", agent.DeviceInfo{Platform: "android", Model: evil, OSVersion: "14", AppVersion: "1"})
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Fatalf("device model rendered as HTML:\n%s", page)
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("device model not shown as text:\n%s", page)
	}
}

func TestDevicePromptFormsNeedTheirCSRFToken(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	b.OpenPrompt("alice", "/")
	code, _ := dev.Passcode(time.Now())
	for _, path := range []string{"passcode", "push", "skip"} {
		r := b.PostForm("/.trustgate/verify/"+path, url.Values{"csrf": {"forged"}, "passcode": {code}})
		if r.Status != http.StatusForbidden {
			t.Errorf("POST %s with a forged token: %d", path, r.Status)
		}
	}
	if pushes, _ := dev.Pushes(context.Background(), 0); len(pushes) != 0 {
		t.Errorf("a forged post sent a push")
	}
	if r := b.Get("/"); r.Status == http.StatusOK {
		t.Errorf("a forged post signed in")
	}
}

func TestDevicePushesAreRateLimitedPerUser(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck, Device: func(d *prompt.DeviceTrust) { d.PushLimit, d.PushWindow = 2, 10*time.Minute }})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	for i := 0; i < 3; i++ {
		r := b.PostForm("/.trustgate/verify/push", url.Values{"csrf": {gatetest.FormCSRF(t, page)}})
		want := http.StatusSeeOther
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if r.Status != want {
			t.Fatalf("push %d: %d, want %d", i+1, r.Status, want)
		}
		page = b.Get("/.trustgate/verify").Body
	}
	// Pushes from a second browser count against the same user.
	other := gw.NewBrowser(gatetest.AndroidUA)
	page = other.OpenPrompt("alice", "/")
	if r := other.PostForm("/.trustgate/verify/push", url.Values{"csrf": {gatetest.FormCSRF(t, page)}}); r.Status != http.StatusTooManyRequests {
		t.Errorf("push from another browser: %d, want 429", r.Status)
	}
	if pushes, _ := dev.Pushes(context.Background(), 0); len(pushes) != 2 {
		t.Errorf("device got %d pushes, want 2", len(pushes))
	}
}

func TestDeviceContinueButtonWorksWithoutScript(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	if !strings.Contains(page, `action="/.trustgate/verify/next"`) {
		t.Fatal("no Continue button")
	}
	// Before the app answers, Continue comes back to the prompt.
	if r := b.Get("/.trustgate/verify/next"); r.Status != http.StatusSeeOther || r.Location != "/.trustgate/verify" {
		t.Errorf("continue while waiting: %d %q", r.Status, r.Location)
	}
	tampered := gatetest.Healthy()
	tampered.Tampered = boolp(true)
	gw.InlineCheck(t, dev, page, tampered, "")
	r := b.Get("/.trustgate/verify/next")
	if r.Status != http.StatusSeeOther {
		t.Fatalf("continue after denial: %d", r.Status)
	}
	if r = b.Get(r.Location); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "rooted_device") {
		t.Errorf("denial after continue: %d %s", r.Status, r.Body)
	}
}

func TestDevicePasscodeWorksOnce(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	code, _ := dev.Passcode(time.Now())
	first := gw.NewBrowser(gatetest.AndroidUA)
	page := first.OpenPrompt("alice", "/")
	if r := first.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, page)}, "passcode": {code}}); r.Status != http.StatusSeeOther {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	second := gw.NewBrowser(gatetest.AndroidUA)
	page = second.OpenPrompt("alice", "/")
	if r := second.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, page)}, "passcode": {code}}); r.Status != http.StatusUnauthorized {
		t.Errorf("replayed passcode: %d, want 401", r.Status)
	}
}

func TestDeviceSecondFactorWithoutCheckIsDeniedInBlock(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	code, _ := dev.Passcode(time.Now())
	r := b.PostForm("/.trustgate/verify/passcode", url.Values{"csrf": {gatetest.FormCSRF(t, page)}, "passcode": {code}})
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "device_not_verified") {
		t.Fatalf("passcode in block mode: %d %s", r.Status, r.Body)
	}
	if e := gw.LastLog(t, "alice"); e.Result != "denied" || e.Factor != "passcode" || e.Reason != "endpoint_is_not_trusted" {
		t.Errorf("auth log = %+v", e)
	}
	if gw.Hits() != 0 {
		t.Error("upstream reached")
	}
}
