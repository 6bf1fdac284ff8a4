package caddymodule

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// chromiumPath finds a headless-capable Chromium. In CI the browser test
// must run, so a missing browser fails there instead of skipping.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI: Chromium is required for the browser test (apt-get install -y chromium)")
	}
	t.Skip("Chromium not found: skipping the browser test (install chromium to run it)")
	return ""
}

// phoneBrowser starts headless Chromium emulating an Android phone (Pixel 8,
// Chrome on Android 14): its viewport, touch, user agent and client hints.
func phoneBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
			_, err := cdp.Call(ctx, target, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: gatetest.AndroidUA,
				Platform:  "Linux armv8l",
				UserAgentMetadata: &emulation.UserAgentMetadata{
					Brands:          []*emulation.UserAgentBrandVersion{{Brand: "Chromium", Version: "131"}, {Brand: "Google Chrome", Version: "131"}},
					Platform:        "Android",
					PlatformVersion: "14.0.0",
					Model:           "Pixel 8",
					Mobile:          true,
				},
			})
			return err
		}),
		chromedp.EmulateViewport(412, 915, chromedp.EmulateScale(2.625), chromedp.EmulateMobile, chromedp.EmulateTouch),
	)
	if err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page to dir/name.png, and to $TRUSTGATE_SCREENSHOTS
// when set (how docs/ screenshots are refreshed).
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{dir}
	if extra := os.Getenv("TRUSTGATE_SCREENSHOTS"); extra != "" {
		dirs = append(dirs, extra)
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// browserLogin opens path in the phone's browser and signs in as alice,
// ending on the prompt page.
func browserLogin(t *testing.T, ctx context.Context, shots, path string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(gateURL+path)); err != nil {
		t.Fatalf("opening the protected URL: %v", err)
	}
	waitFor(t, ctx, "the login form", `document.querySelector('#username')`)
	screenshot(t, ctx, shots, "1-login")
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), gatetest.Users["alice"].Password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	waitFor(t, ctx, "the prompt page", `document.querySelector('#open-app')`)
}

// waitFor polls the page until the JavaScript expression cond is true.
// Polling through Runtime.evaluate is immune to navigations and to DOM
// updates made by the page's own script.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(function(){try{return !!("+cond+")}catch(e){return false}})()"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: never happened (last error %v)", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitStatusState waits until the waiting page's script has read state
// from the gateway (it polls by itself; the test only watches).
func waitStatusState(t *testing.T, ctx context.Context, state string) {
	t.Helper()
	waitFor(t, ctx, "state "+state, `document.querySelector('#tg-status').getAttribute('data-state') === '`+state+`'`)
}

func TestBrowserPhoneInlineCheck(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", gatetest.Android14)
	ctx := phoneBrowser(t)
	shots := t.TempDir()

	browserLogin(t, ctx, shots, "/dashboard")
	waitStatusState(t, ctx, "waiting")
	screenshot(t, ctx, shots, "2-prompt")

	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#open-app`), "data-https-link"))
	if err != nil || !attr.Exists {
		t.Fatalf("reading the deep link: %v", err)
	}
	link := attr.Value
	rep, err := dev.Verify(context.Background(), link, gatetest.Healthy())
	if err != nil || !rep.Trusted || rep.Push == nil {
		t.Fatalf("report: %+v %v", rep, err)
	}
	// The page sees the report by itself.
	waitStatusState(t, ctx, "waiting_approval")
	screenshot(t, ctx, shots, "3-approve-in-app")
	ans, err := dev.Answer(context.Background(), gateURL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil || ans.ReturnURL == "" {
		t.Fatalf("approve: %+v %v", ans, err)
	}
	waitStatusState(t, ctx, "approved")
	screenshot(t, ctx, shots, "4-approved")

	// The app opens its return link in the phone's browser, which lands on
	// the protected page.
	if err := chromedp.Do(ctx, chromedp.Navigate(ans.ReturnURL)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the upstream page", `location.pathname === '/dashboard' && document.body.innerText.includes('"path"')`)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`body`)))
	if err != nil {
		t.Fatal(err)
	}
	if loc != gateURL+"/dashboard" || !strings.Contains(body, `"path":"/dashboard"`) || !strings.Contains(body, "X-Trustgate-Device-Trust") {
		t.Fatalf("after the return link: at %s with\n%s", loc, body)
	}
	screenshot(t, ctx, shots, "5-upstream")
	if e := lastLog(t, "alice"); e.Factor != "mobile_inline" || e.TrustStatus != "trusted" || e.AccessDevice.Kind != "android_phone" {
		t.Errorf("auth log = %+v", e)
	}
	t.Logf("screenshots in %s", shots)
}

func TestBrowserPhoneUnhealthyDeviceIsDenied(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", gatetest.Android14)
	ctx := phoneBrowser(t)
	shots := t.TempDir()

	browserLogin(t, ctx, shots, "/dashboard")
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#open-app`), "data-https-link"))
	if err != nil || !attr.Exists {
		t.Fatalf("reading the deep link: %v", err)
	}
	link := attr.Value
	rooted := gatetest.Healthy()
	rooted.Tampered = boolp(true)
	rep, err := dev.Verify(context.Background(), link, rooted)
	if err != nil || rep.State != store.TransactionDenied {
		t.Fatalf("report: %+v %v", rep, err)
	}
	// The waiting page moves on to the denial page by itself.
	waitFor(t, ctx, "the denial page", `document.querySelector('#failed li[data-reason="rooted_device"]')`)
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#failed`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "jailbroken or rooted") {
		t.Errorf("denial page says %q", text)
	}
	screenshot(t, ctx, shots, "6-denied")
	if up.Hits() != 0 {
		t.Errorf("upstream reached")
	}
}

func TestBrowserPhoneTimeoutThenOtherDevice(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tpush_timeout 3s")
	dev := newDevice(t, "alice", gatetest.Android14)
	other := newDevice(t, "alice", agent.DeviceInfo{Platform: "ios", Model: "iPhone 15", OSVersion: "17.4", AppVersion: "1.0.0"})
	ctx := phoneBrowser(t)
	shots := t.TempDir()

	browserLogin(t, ctx, shots, "/inbox")
	attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`#open-app`), "data-https-link"))
	if err != nil || !attr.Exists {
		t.Fatalf("reading the deep link: %v", err)
	}
	if _, err := dev.Verify(context.Background(), attr.Value, gatetest.Healthy()); err != nil {
		t.Fatal(err)
	}
	// Nobody approves: the page notices the timeout by itself and offers
	// the other factors.
	waitFor(t, ctx, "the timeout notice", `document.querySelector('#timed-out') && document.querySelector('#other-ways').open`)
	screenshot(t, ctx, shots, "7-timed-out")

	// Send a request to the other device; the page shows the number.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#other-ways form[action$="/push"] button`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the number", `document.querySelector('#match-number')`)
	number, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#match-number`)))
	if err != nil {
		t.Fatal(err)
	}
	// The other device looks before the screenshot: the request lapses
	// after push_timeout, which a slow screenshot on a busy machine could
	// outlast.
	pushes, err := other.Pushes(context.Background(), 10*time.Second)
	if err != nil || len(pushes) != 1 || !pushes[0].NumberMatching {
		t.Fatalf("other device's pushes: %+v %v", pushes, err)
	}
	screenshot(t, ctx, shots, "8-number-matching")
	if _, err := other.Answer(context.Background(), gateURL, pushes[0].ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: strings.TrimSpace(number)}); err != nil {
		t.Fatal(err)
	}
	// The page completes by itself: a push to another device needs no
	// return link, it proves the person, not this phone.
	waitFor(t, ctx, "the upstream page", `location.pathname === '/inbox' && document.body.innerText.includes('"path"')`)
	screenshot(t, ctx, shots, "9-in-after-push")
	if e := lastLog(t, "alice"); e.Factor != "push" || e.TrustStatus != "not trusted" || !e.WouldBlock {
		t.Errorf("auth log = %+v", e)
	}
}
