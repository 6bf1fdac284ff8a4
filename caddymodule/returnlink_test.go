package caddymodule

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// twinBrowser returns a phone browser holding b's cookies as they are now:
// b before an answer it is about to lose.
func twinBrowser(t *testing.T, b *browser) *browser {
	t.Helper()
	u, _ := url.Parse(gateURL + "/")
	twin := newPhoneBrowser(t, gatetest.AndroidUA)
	twin.client.Jar.SetCookies(u, b.client.Jar.Cookies(u))
	return twin
}

// approvedReturnLink signs a phone browser in as alice up to an approved
// inline check, and returns the browser and the return link the app opens.
func approvedReturnLink(t *testing.T, path string) (*browser, string) {
	t.Helper()
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile)
	dev := newDevice(t, "alice", gatetest.Android14)
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	page := openPrompt(t, b, "alice", path)
	_, ans := inlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
	if ans.ReturnURL == "" {
		t.Fatalf("approval = %+v, want a return link", ans)
	}
	return b, ans.ReturnURL
}

// The return link completed the login, but the browser never saw the
// answer (here: it kept its cookies from before; with the real binary, the
// instance was killed, see TestReturnLinkReopenedAfterCrashGivesTheSession):
// opening the link again in that browser gives it its session, and the
// login is recorded once.
func TestReturnLinkReopenedInItsBrowserGivesTheSession(t *testing.T) {
	b, link := approvedReturnLink(t, "/reports?q=1")
	lost := twinBrowser(t, b)
	if r := b.get(link); r.status != http.StatusSeeOther || r.location != "/reports?q=1" {
		t.Fatalf("return link: %d → %q (%s)", r.status, r.location, r.body)
	}

	r := lost.get(link)
	if r.status != http.StatusSeeOther || r.location != "/reports?q=1" {
		t.Fatalf("return link opened again by the browser that lost its answer: %d → %q (%s)", r.status, r.location, r.body)
	}
	v := decodeUpstream(t, lost.get(gateURL+"/reports?q=1"))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Errorf("upstream user = %q, want alice", got)
	}
	if got := v.Headers["X-Trustgate-Device-Trust"]; len(got) != 1 || got[0] != "trusted" {
		t.Errorf("upstream trust = %q, want trusted", got)
	}
	if n := len(authLog(t, "user=alice&result=success")); n != 1 {
		t.Errorf("auth log has %d success rows for alice, want 1 (the reopened link records nothing again)", n)
	}
}

// Opening the return link again after it signed the browser in says so,
// with a link to the application, instead of "open in your browser".
func TestReturnLinkReopenedAfterSuccessSaysSignedIn(t *testing.T) {
	b, link := approvedReturnLink(t, "/docs")
	if r := b.get(link); r.status != http.StatusSeeOther {
		t.Fatalf("return link: %d (%s)", r.status, r.body)
	}
	r := b.get(link)
	if r.status != http.StatusOK || !strings.Contains(r.body, `id="signed-in"`) || !strings.Contains(r.body, `href="/docs"`) {
		t.Fatalf("return link opened again after success: %d\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, "Open in your browser") {
		t.Error("the signed-in browser was told to open the link in its browser")
	}
	if r := b.get(gateURL + "/docs"); r.status != http.StatusOK {
		t.Errorf("after opening the link again: %d, want the session to work", r.status)
	}
}

// The link stays single-use across browsers: another browser gets no
// session from it, before or after the login completed.
func TestReturnLinkFromAnotherBrowserStillRefused(t *testing.T) {
	b, link := approvedReturnLink(t, "/")
	lost := twinBrowser(t, b)
	other := newPhoneBrowser(t, gatetest.AndroidUA)
	if r := other.get(link); r.status != http.StatusForbidden {
		t.Fatalf("return link in another browser before completing: %d (%s)", r.status, r.body)
	}
	if r := b.get(link); r.status != http.StatusSeeOther {
		t.Fatalf("return link: %d (%s)", r.status, r.body)
	}
	if r := other.get(link); r.status != http.StatusForbidden || other.sessionCookie() != "" {
		t.Fatalf("return link in another browser after completing: %d, session %q", r.status, other.sessionCookie())
	}
	// The right browser with a wrong code, after completing, is refused.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("code", q.Get("code")+"x")
	u.RawQuery = q.Encode()
	if r := lost.get(u.String()); r.status != http.StatusForbidden || lost.sessionCookie() != "" {
		t.Errorf("tampered return code in the browser that started the check: %d, session %q", r.status, lost.sessionCookie())
	}
}
