package caddymodule

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/gatetest"
)

// desktopBrowser starts headless Chromium with a laptop-sized window.
func desktopBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// navigate opens url and waits until cond holds on the new page.
func navigate(t *testing.T, ctx context.Context, url, what, cond string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	waitFor(t, ctx, what, cond)
}

// click clicks the element sel and waits until cond holds.
func click(t *testing.T, ctx context.Context, sel, what, cond string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("clicking %s: %v", sel, err)
	}
	defer func() {
		if t.Failed() {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText"))
			t.Logf("page after clicking %s: %s", sel, text)
		}
	}()
	waitFor(t, ctx, what, cond)
}

// evalTrue fails the test unless the JavaScript expression is true now.
func evalTrue(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("(function(){try{return !!("+expr+")}catch(e){return false}})()"))
	if err != nil || !ok {
		t.Errorf("%s: %s is false (%v)", what, expr, err)
	}
}

func TestBrowserDashboard(t *testing.T) {
	ctx := desktopBrowser(t)
	st := dashboardGateway(t)
	now := time.Now().UTC()
	seedDevices(t, st.Store(), 24, now.Add(-72*time.Hour))
	seedLogins(t, st.Store(), now)
	// A phone checked for real, and a device whose model tries to inject a
	// script.
	phone, dev := trustedSession(t, "/app")
	id := dev.DeviceID()
	newDevice(t, "bob", agent.DeviceInfo{Platform: "ios", Model: scriptModel, OSVersion: "17.4", AppVersion: "1.0.0"})
	shots := t.TempDir()

	// Sign in as alice, an admin, in the browser.
	navigate(t, ctx, dashURL+"/admin/", "the login form", `document.querySelector('#username')`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#username`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`#password`), gatetest.Users["alice"].Password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	if err != nil {
		t.Fatalf("signing in: %v", err)
	}
	waitFor(t, ctx, "the overview", `document.querySelector('#chart-logins svg')`)

	// Overview: the three charts are drawn, with bars and text
	// alternatives.
	evalTrue(t, ctx, "trusted logins drawn", `document.querySelectorAll('#chart-logins svg rect.trusted').length >= 10`)
	evalTrue(t, ctx, "untrusted logins drawn", `document.querySelectorAll('#chart-logins svg rect.untrusted').length >= 5`)
	evalTrue(t, ctx, "login chart titled", `document.querySelector('#chart-logins svg > title').textContent.startsWith('Logins by device trust')`)
	evalTrue(t, ctx, "axis labels", `[...document.querySelectorAll('#chart-logins svg text.axis-label')].map(e => e.textContent).join('|') === 'day (UTC)|logins'`)
	evalTrue(t, ctx, "android versions drawn", `document.querySelectorAll('#chart-os-android svg rect.bar').length === 5`)
	evalTrue(t, ctx, "ios versions drawn", `document.querySelectorAll('#chart-os-ios svg rect.bar').length === 3`)
	evalTrue(t, ctx, "denial reasons drawn", `[...document.querySelectorAll('#chart-denials svg text')].some(e => e.textContent === 'no_screen_lock')`)
	evalTrue(t, ctx, "charts scale", `document.querySelector('#chart-logins svg').getBoundingClientRect().width > 600`)
	evalTrue(t, ctx, "no script", `document.querySelectorAll('script').length === 0`)
	screenshot(t, ctx, shots, "dashboard-overview")

	// Endpoints: the model with markup shows as text, nothing runs.
	navigate(t, ctx, dashURL+"/admin/endpoints", "the endpoints table", `document.querySelector('#endpoints tbody tr[data-device]')`)
	evalTrue(t, ctx, "model shown as text", `[...document.querySelectorAll('#endpoints td.model')].some(td => td.textContent === '<script>alert(1)</script>')`)
	evalTrue(t, ctx, "model visible", `document.body.innerText.includes('<script>alert(1)</script>')`)
	evalTrue(t, ctx, "no injected script", `document.querySelectorAll('script').length === 0`)
	click(t, ctx, `#endpoints th:nth-child(4) a`, "sorted by OS version", `document.querySelector('#endpoints th:nth-child(4)').getAttribute('aria-sort') === 'ascending'`)
	screenshot(t, ctx, shots, "dashboard-endpoints")

	// Revoke the phone through the button and the confirmation.
	navigate(t, ctx, dashURL+"/admin/endpoints?user=alice", "alice's device", `document.querySelector('#endpoints tr[data-device="`+id+`"] a')`)
	click(t, ctx, `#endpoints tr[data-device="`+id+`"] a`, "the device page", `document.querySelector('#revoke') && document.querySelector('#history tbody tr')`)
	screenshot(t, ctx, shots, "dashboard-device")
	click(t, ctx, `#revoke`, "the confirmation", `document.querySelector('#confirm-revoke')`)
	evalTrue(t, ctx, "confirmation names the device", `document.querySelector('#confirm-model').textContent === 'Pixel 8'`)
	screenshot(t, ctx, shots, "dashboard-confirm")
	click(t, ctx, `#confirm-revoke`, "the revoked device", `document.querySelector('#device-status .badge.bad') && document.querySelector('.message')`)
	screenshot(t, ctx, shots, "dashboard-revoked")
	if d, err := st.Store().Device(context.Background(), id); err != nil || d.Active() {
		t.Fatalf("device after the dashboard's revocation: %+v %v", d, err)
	}
	if r := phone.get(gateURL + "/app"); r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Errorf("phone after revocation: %d → %q, want the device check again", r.status, r.location)
	}

	// Auth log and rollout impact.
	navigate(t, ctx, dashURL+"/admin/auth-log?result=denied", "the auth log", `document.querySelector('#auth-log tbody tr[data-entry]')`)
	evalTrue(t, ctx, "only denials", `[...document.querySelectorAll('#auth-log tbody tr')].every(tr => tr.children[3].textContent.startsWith('denied'))`)
	screenshot(t, ctx, shots, "dashboard-auth-log")
	navigate(t, ctx, dashURL+"/admin/impact", "the rollout impact", `document.querySelector('#by-reason tbody tr')`)
	evalTrue(t, ctx, "impact chart drawn", `document.querySelectorAll('#chart-impact svg rect.bar').length >= 1`)
	evalTrue(t, ctx, "impact by group", `document.querySelector('#by-group').textContent.includes('pilot')`)
	screenshot(t, ctx, shots, "dashboard-impact")

	// On a phone's width the overview still fits: tables scroll inside
	// their box, the charts shrink.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(412, 915, chromedp.EmulateScale(2), chromedp.EmulateMobile)); err != nil {
		t.Fatal(err)
	}
	navigate(t, ctx, dashURL+"/admin/", "the overview on a phone", `document.querySelector('#chart-logins svg')`)
	evalTrue(t, ctx, "no sideways page scroll", `document.documentElement.scrollWidth <= window.innerWidth`)
	evalTrue(t, ctx, "chart fits", `document.querySelector('#chart-logins svg').getBoundingClientRect().width <= window.innerWidth`)
	screenshot(t, ctx, shots, "dashboard-phone")

	// bob, not an admin, gets 403 in his own browser.
	bob := dashLogin(t, "bob")
	if r := bob.get(dashURL + "/admin/endpoints"); r.status != http.StatusForbidden || strings.Contains(r.body, scriptModel) {
		t.Errorf("bob: %d", r.status)
	}
	t.Logf("screenshots in %s", shots)
}
