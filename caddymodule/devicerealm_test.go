package caddymodule

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// Phones of the device-realm tests, told apart on the prompt by model.
var (
	phoneOfA = agent.DeviceInfo{Platform: "android", Model: "Phone of site A", OSVersion: "14", AppVersion: "1.0.0"}
	phoneOfB = agent.DeviceInfo{Platform: "android", Model: "Phone of site B", OSVersion: "14", AppVersion: "1.0.0"}
)

// realmSites starts site A at gateURL (mode block, enrollment self
// block_mode) and site B at http://adminHost (mode check, enrollment
// self), each signing in with its own users file, both of which know
// alice, unless realm names a session_realm the two share (with one users
// file). It returns B's URL.
func realmSites(t *testing.T, up *upstream, realm string) string {
	t.Helper()
	usersA, usersB := writeUsersFileOf(t, "alice"), writeUsersFileOf(t, "alice")
	realmLine := ""
	if realm != "" {
		usersB, realmLine = usersA, "session_realm "+realm
	}
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%[1]d {
	trusted_endpoints {
		application site-a
		login users_file %[2]s
		mode block
		enrollment self block_mode
		%[4]s
		%[5]s
	}
	reverse_proxy %[6]s
}

http://%[7]s:%[1]d {
	trusted_endpoints {
		application site-b
		login users_file %[3]s
		mode check
		enrollment self
		%[4]s
		%[5]s
	}
	reverse_proxy %[6]s
}
`, httpPort, usersA, usersB, pilotMobile, realmLine, up.hostPort(), adminHost))
	return fmt.Sprintf("http://%s:%d", adminHost, httpPort)
}

// enrollFromPrompt signs alice in on the site at base, takes the activation
// link its prompt offers, and activates a phone with it at origin.
func enrollFromPrompt(t *testing.T, base, origin string, info agent.DeviceInfo) *agent.Agent {
	t.Helper()
	link := promptActivationLink(openPromptAt(t, newPhoneBrowser(t, gatetest.AndroidUA), base, "alice"))
	if link == "" {
		t.Fatalf("the prompt of %s offers alice no activation link", base)
	}
	dev, _, err := activate(t, atOrigin(t, link, origin), info)
	if err != nil {
		t.Fatalf("activating a phone from the prompt of %s at %s: %v", base, origin, err)
	}
	return dev
}

// trustedOnA runs an inline check of dev for alice on site A and reports
// whether it gave her a trusted session there.
func trustedOnA(t *testing.T, dev *agent.Agent) {
	t.Helper()
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	page := openPrompt(t, b, "alice", "/private")
	rep, ans := inlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
	if !rep.Trusted || ans.State != store.PushApproved || ans.ReturnURL == "" {
		t.Fatalf("inline check on A: report %+v, answer %+v", rep, ans)
	}
	if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther || r.location != "/private" {
		t.Fatalf("return link on A: %d → %q", r.status, r.location)
	}
	v := decodeUpstream(t, b.get(gateURL+"/private"))
	if got := v.Headers["X-Trustgate-Device-Id"]; len(got) != 1 || got[0] != dev.DeviceID() {
		t.Fatalf("A's upstream: device %q, want %s", got, dev.DeviceID())
	}
}

// noPushes fails unless dev has no pending login request.
func noPushes(t *testing.T, dev *agent.Agent, what string) {
	t.Helper()
	pushes, err := dev.Pushes(context.Background(), 0)
	if err != nil {
		t.Fatalf("%s: reading pushes: %v", what, err)
	}
	if len(pushes) != 0 {
		t.Fatalf("%s: %d login requests reached it: %+v", what, len(pushes), pushes)
	}
}

// TestDeviceOfAnotherRealmDoesNotCount: sites A and B sign in with their
// own users files, both of which know an alice. B's alice enrolls her
// phone from B's prompt (activating it even through A's device API): on
// A, in mode block, that phone vouches for nobody: A's prompt counts no
// device for A's alice (it offers her enrollment, sends her pushes
// nowhere, takes no passcode from it) and A refuses its report. A phone
// enrolled from A's prompt works on A, and A's pushes reach it alone.
func TestDeviceOfAnotherRealmDoesNotCount(t *testing.T) {
	up := newUpstream(t)
	b := realmSites(t, up, "")
	ctx := context.Background()
	phoneB := enrollFromPrompt(t, b, gateURL, phoneOfB)
	if d, err := phoneB.Device(ctx); err != nil || d.User != "alice" {
		t.Fatalf("B's phone: %+v, %v", d, err)
	}

	browser := newPhoneBrowser(t, gatetest.AndroidUA)
	page := openPrompt(t, browser, "alice", "/private")
	if promptActivationLink(page) == "" {
		t.Error("A's prompt offers alice no enrollment: it counts B's phone as hers")
	}
	if strings.Contains(page, phoneOfB.Model) {
		t.Error("A's prompt names B's phone")
	}
	// B's phone reports for A's check: refused as another person's device.
	_, link := gatetest.PromptLinks(t, page)
	if _, err := phoneB.Verify(ctx, link, gatetest.Healthy()); agent.ErrorCode(err) != "wrong_user" {
		t.Fatalf("B's phone reporting for A's alice: %v, want wrong_user", err)
	}
	// A push has nobody to go to on A.
	if r := browser.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}}); r.status != http.StatusBadRequest {
		t.Errorf("push on A with only B's phone: %d, want 400", r.status)
	}
	noPushes(t, phoneB, "B's phone after a push on A")
	// B's phone's passcode is not one of A's alice's.
	browser = newPhoneBrowser(t, gatetest.AndroidUA)
	page = openPrompt(t, browser, "alice", "/private")
	code, _ := phoneB.Passcode(time.Now())
	if r := browser.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}}); r.status != http.StatusUnauthorized {
		t.Errorf("B's phone's passcode on A: %d, want 401 (not valid)", r.status)
	}
	if up.Hits() != 0 {
		t.Fatalf("A's upstream reached %d times on B's phone", up.Hits())
	}

	// A phone enrolled on A works there; A's pushes reach it, not B's.
	phoneA := enrollFromPrompt(t, gateURL, gateURL, phoneOfA)
	trustedOnA(t, phoneA)
	browser = newPhoneBrowser(t, gatetest.AndroidUA)
	page = openPrompt(t, browser, "alice", "/private")
	if !strings.Contains(page, phoneOfA.Model) || strings.Contains(page, phoneOfB.Model) {
		t.Errorf("A's prompt should name A's phone only")
	}
	if r := browser.postForm(gateURL+"/.trustgate/verify/push", url.Values{"csrf": {formCSRF(t, page)}}); r.status != http.StatusSeeOther {
		t.Fatalf("push on A: %d %s", r.status, r.body)
	}
	if pushes, err := phoneA.Pushes(ctx, 5*time.Second); err != nil || len(pushes) != 1 {
		t.Fatalf("A's phone: pushes %v, %v; want one", pushes, err)
	}
	noPushes(t, phoneB, "B's phone after a push on A")

	// On B it is the other way round: B's phone works, A's does not.
	pageB := openPromptAt(t, newPhoneBrowser(t, gatetest.AndroidUA), b, "alice")
	if strings.Contains(pageB, phoneOfA.Model) {
		t.Error("B's prompt names A's phone")
	}
}

// TestDeviceSharedSessionRealmSharesDevices: two sites put in one realm on
// purpose (session_realm) share their devices as they share sessions: a
// phone enrolled from B's prompt vouches for alice on A.
func TestDeviceSharedSessionRealmSharesDevices(t *testing.T) {
	up := newUpstream(t)
	b := realmSites(t, up, "corp")
	phone := enrollFromPrompt(t, b, gateURL, phoneOfB)
	page := openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/private")
	if promptActivationLink(page) != "" {
		t.Error("A's prompt offers enrollment to alice, who has a phone in the realm")
	}
	trustedOnA(t, phone)
	// With one realm for every site, an admin's code binds to it.
	if realm := issueActivationFor(t, "alice", "", http.StatusCreated)["realm"]; realm != "realm:corp" {
		t.Errorf("admin code without application: realm %q, want realm:corp", realm)
	}
}

// issueActivationFor posts an activation request for user and application
// to the admin API and returns the answer's fields, failing unless the
// status is want.
func issueActivationFor(t *testing.T, user, application string, want int) map[string]string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"user": user, "application": application})
	resp, err := http.Post(adminURL+"/trusted-endpoints/activations", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("issuing activation for %q: %d %s, want %d", application, resp.StatusCode, raw, want)
	}
	out := map[string]string{}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("activation answer %s: %v", raw, err)
	}
	for k, v := range fields {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	out["body"] = string(raw)
	return out
}

// TestDeviceAdminCodeBindsToTheApplicationsRealm: an admin's code for
// application site-b binds its phone to B's realm, which A does not count;
// an unknown application is refused; without an application, where the
// sites have different realms, the phone is bound to none and, like a
// device activated before devices had realms, counts on every site.
func TestDeviceAdminCodeBindsToTheApplicationsRealm(t *testing.T) {
	up := newUpstream(t)
	realmSites(t, up, "")
	ctx := context.Background()

	ans := issueActivationFor(t, "alice", "site-b", http.StatusCreated)
	if !strings.HasPrefix(ans["realm"], "users_file:") || ans["realm_id"] != session.RealmID(ans["realm"]) {
		t.Errorf("code for site-b: realm %q (ID %q)", ans["realm"], ans["realm_id"])
	}
	_, link := device.ActivationLinks(gateURL, ans["code"])
	phoneB, _, err := activate(t, link, phoneOfB)
	if err != nil {
		t.Fatal(err)
	}
	page := openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/private")
	_, verify := gatetest.PromptLinks(t, page)
	if _, err := phoneB.Verify(ctx, verify, gatetest.Healthy()); agent.ErrorCode(err) != "wrong_user" {
		t.Fatalf("site-b's phone reporting on A: %v, want wrong_user", err)
	}

	// What-if for A's alice with it: not her device.
	if status, _, raw := whatIf(t, fmt.Sprintf(`{"user": "alice", "application": "site-a", "device_id": %q}`, phoneB.DeviceID())); status != http.StatusBadRequest || !strings.Contains(raw, "another realm") {
		t.Errorf("what-if on site-a with site-b's phone: %d %s, want 400", status, raw)
	}
	if status, ans, raw := whatIf(t, `{"user": "alice", "application": "site-a"}`); status != http.StatusOK || ans.DeviceID != "" {
		t.Errorf("what-if on site-a picks site-b's phone: %d %s", status, raw)
	}

	if ans := issueActivationFor(t, "alice", "no-such-app", http.StatusBadRequest); !strings.Contains(ans["body"], "no-such-app") ||
		!strings.Contains(ans["body"], "site-a, site-b") {
		t.Errorf("unknown application: %s", ans["body"])
	}

	ans = issueActivationFor(t, "alice", "", http.StatusCreated)
	if realm, ok := ans["realm"]; !ok || realm != "" {
		t.Errorf("code without application over two realms: realm %q (present %v), want \"\"", realm, ok)
	}
	_, link = device.ActivationLinks(gateURL, ans["code"])
	unbound, _, err := activate(t, link, phoneOfA)
	if err != nil {
		t.Fatal(err)
	}
	trustedOnA(t, unbound)
}

var activationRealmRE = regexp.MustCompile(`id="activation-realm">The device will count on the sites of realm <code>([^<]+)</code>`)

// TestDashboardActivationBindsToTheApplicationsRealm: the dashboard's
// activation page offers the applications, binds the code's device to the
// chosen one's realm, says which, and refuses an unknown application.
func TestDashboardActivationBindsToTheApplicationsRealm(t *testing.T) {
	dashboardGateway(t)
	alice := dashLogin(t, "alice")
	r := alice.get(dashURL + "/admin/activate")
	if !strings.Contains(r.body, `<option value="legacy">legacy</option>`) {
		t.Fatalf("the activation page offers no application:\n%s", r.body)
	}
	csrf := formCSRF(t, r.body)
	r = alice.postForm(dashURL+"/admin/activate", url.Values{"csrf": {csrf}, "user": {"alice"}, "origin": {gateURL}, "application": {"no-such-app"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "no-such-app") {
		t.Errorf("unknown application: %d\n%s", r.status, r.body)
	}
	r = alice.postForm(dashURL+"/admin/activate", url.Values{"csrf": {csrf}, "user": {"alice"}, "origin": {gateURL}, "application": {"legacy"}})
	realm, link := activationRealmRE.FindStringSubmatch(r.body), activationHTTPSRE.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || realm == nil || link == nil || !strings.HasPrefix(html.UnescapeString(realm[1]), "users_file:") {
		t.Fatalf("code for legacy: %d\n%s", r.status, r.body)
	}
	dev := gatetest.NewAgent(t, nil)
	if _, err := dev.Activate(context.Background(), html.UnescapeString(link[1]), gatetest.Android14); err != nil {
		t.Fatal(err)
	}
	status, body := adminGet(t, "/trusted-endpoints/devices?user=alice")
	var list struct{ Devices []store.Device }
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil || len(list.Devices) != 1 {
		t.Fatalf("devices: %d %s", status, body)
	}
	if want := session.RealmID(html.UnescapeString(realm[1])); list.Devices[0].Realm != want {
		t.Errorf("device realm = %q, want %q (%s)", list.Devices[0].Realm, want, realm[1])
	}
}
