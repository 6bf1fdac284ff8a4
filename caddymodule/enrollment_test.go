package caddymodule

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddyconfig"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// adminHost serves, beside gateURL, a second site on the same store.
const adminHost = "127.0.0.1"

// twoSiteGateway starts two sites on one store and users file, both in
// mode check: gateURL with selfSettings, and http://adminHost with the
// default enrollment. It returns the second site's URL.
func twoSiteGateway(t *testing.T, up *upstream, selfSettings string) string {
	t.Helper()
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%[1]d {
	trusted_endpoints {
		application legacy
		login users_file %[2]s
		mode check
		%[3]s
		%[4]s
	}
	reverse_proxy %[5]s
}

http://%[6]s:%[1]d {
	trusted_endpoints {
		application other
		login users_file %[2]s
		mode check
		%[3]s
	}
	reverse_proxy %[5]s
}
`, httpPort, gatetest.WriteUsersFile(t), pilotMobile, selfSettings, up.hostPort(), adminHost))
	return fmt.Sprintf("http://%s:%d", adminHost, httpPort)
}

// openPromptAt signs b in as user on the site at base and returns the
// prompt page.
func openPromptAt(t *testing.T, b *browser, base, user string) string {
	t.Helper()
	r := b.get(base + "/")
	if r.status != http.StatusFound {
		t.Fatalf("GET / before login: %d", r.status)
	}
	r = b.get(base + r.location)
	r = b.postForm(base+"/.trustgate/login", url.Values{"csrf": {formCSRF(t, r.body)}, "username": {user}, "password": {gatetest.Users[user].Password}})
	if r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("login at %s: %d %q", base, r.status, r.location)
	}
	r = b.get(base + r.location)
	if r.status != http.StatusOK {
		t.Fatalf("prompt at %s: %d", base, r.status)
	}
	return r.body
}

// atOrigin returns the activation link with its origin replaced.
func atOrigin(t *testing.T, link, origin string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(protocol.ParamOrigin, origin)
	u.RawQuery = q.Encode()
	return u.String()
}

// promptActivationLink returns the activation app link a prompt page
// offers, or "" when it offers none.
func promptActivationLink(page string) string {
	m := activationLinkAttr.FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// activate activates a fresh reference agent with link.
func activate(t *testing.T, link string, info agent.DeviceInfo) (*agent.Agent, protocol.ActivateResponse, error) {
	t.Helper()
	dev := gatetest.NewAgent(t, nil)
	resp, err := dev.Activate(context.Background(), link, info)
	return dev, resp, err
}

// stripCodePrefix returns link with the source prefix of its code (self.
// or approve.) cut off, as an attacker would try to pass a prompt's code
// for an admin's.
func stripCodePrefix(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	_, bare, ok := strings.Cut(q.Get(protocol.ParamCode), ".")
	if !ok {
		t.Fatalf("code of %q has no source prefix", link)
	}
	q.Set(protocol.ParamCode, bare)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestEnrollmentDefaultsToAdminOnly(t *testing.T) {
	up := newUpstream(t)
	adminSite := twoSiteGateway(t, up, "enrollment self")

	// The site without an enrollment line offers none...
	page := openPromptAt(t, newPhoneBrowser(t, gatetest.AndroidUA), adminSite, "alice")
	if strings.Contains(page, `id="enroll"`) || promptActivationLink(page) != "" || strings.Contains(page, "data:image/png") {
		t.Fatalf("the prompt offers enrollment by default:\n%s", page)
	}
	if !strings.Contains(page, "Use the trustgate app") && !strings.Contains(page, `id="skip"`) {
		t.Fatalf("not the prompt:\n%s", page)
	}
	// ... and its device API refuses a code another site's prompt handed
	// out (the codes live in the shared store).
	selfCode := promptActivationLink(openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/"))
	if selfCode == "" {
		t.Fatal("enrollment self offers no activation link")
	}
	if _, _, err := activate(t, atOrigin(t, selfCode, adminSite), gatetest.Android14); agent.ErrorCode(err) != "enrollment_refused" {
		t.Fatalf("activation with a prompt's code under enrollment admin: %v, want enrollment_refused", err)
	}
	// Cutting the source off a prompt's code does not make it an admin's.
	selfCode = promptActivationLink(openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/"))
	if _, _, err := activate(t, atOrigin(t, stripCodePrefix(t, selfCode), adminSite), gatetest.Android14); agent.ErrorCode(err) != "not_found" {
		t.Fatalf("activation with a prompt's code stripped of its source: %v, want not_found", err)
	}
	// An admin's code works there.
	code, _ := issueActivation(t, "alice")
	_, link := device.ActivationLinks(adminSite, code)
	dev, resp, err := activate(t, link, gatetest.Android14)
	if err != nil || resp.User != "alice" || resp.Approval != nil {
		t.Fatalf("activation with an admin's code: %+v, %v", resp, err)
	}
	if _, err := dev.Device(context.Background()); err != nil {
		t.Fatalf("device activated by an admin's code: %v", err)
	}
}

func TestSelfEnrollmentOnlyWithoutAnActiveDevice(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "check", pilotMobile+"\n\t\tenrollment self")
	// Two sign-ins while alice has no device: both offer a code.
	first := promptActivationLink(openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/"))
	second := promptActivationLink(openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/"))
	if first == "" || second == "" {
		t.Fatal("enrollment self offers no activation link to a person without a device")
	}
	dev, resp, err := activate(t, first, gatetest.Android14)
	if err != nil {
		t.Fatalf("self enrollment: %v", err)
	}
	if resp.Approval != nil {
		t.Errorf("self enrollment waits for approval: %+v", resp.Approval)
	}
	if _, err := dev.Device(context.Background()); err != nil {
		t.Fatalf("self-enrolled device: %v", err)
	}
	// Now that she has one, the other code is refused...
	if _, _, err := activate(t, second, gatetest.Android14); agent.ErrorCode(err) != "enrollment_refused" {
		t.Fatalf("second self enrollment: %v, want enrollment_refused", err)
	}
	// ... and the prompt offers none.
	page := openPrompt(t, newPhoneBrowser(t, gatetest.AndroidUA), "alice", "/")
	if promptActivationLink(page) != "" || strings.Contains(page, `id="enroll"`) {
		t.Fatalf("the prompt offers self enrollment to a person with a device:\n%s", page)
	}
}

func TestSelfEnrollmentInBlockModeNeedsBlockMode(t *testing.T) {
	adapter := caddyconfig.GetAdapter("caddyfile")
	file := filepath.Join(t.TempDir(), "Caddyfile")
	for _, line := range []string{"enrollment self", "enrollment", "enrollment on"} {
		for _, order := range []string{line + "\n\t\tmode block", "mode block\n\t\t" + line} {
			input := fmt.Sprintf("http://localhost:%d {\n\ttrusted_endpoints {\n\t\tlogin users_file u\n\t\t%s\n\t}\n}\n", httpPort, order)
			lineNo := 1 + strings.Count(input[:strings.Index(input, line)], "\n")
			_, _, err := adapter.Adapt([]byte(input), map[string]any{"filename": file})
			if err == nil {
				t.Fatalf("%q with mode block was accepted", line)
			}
			msg := err.Error()
			if !strings.Contains(msg, fmt.Sprintf("%s:%d", file, lineNo)) || !strings.Contains(msg, "enrollment self block_mode") ||
				!strings.Contains(msg, "enrollment approve") {
				t.Errorf("%q: error %q does not name %s:%d and the ways out", order, msg, file, lineNo)
			}
		}
	}
	for _, bad := range []string{"enrollment approve block_mode", "enrollment self maybe", "enrollment self\n\t\tenrollment admin"} {
		input := fmt.Sprintf("http://localhost:%d {\n\ttrusted_endpoints {\n\t\tlogin users_file u\n\t\tmode check\n\t\t%s\n\t}\n}\n", httpPort, bad)
		if _, _, err := adapter.Adapt([]byte(input), map[string]any{"filename": file}); err == nil || !strings.Contains(err.Error(), file+":") {
			t.Errorf("%q: %v, want an error naming the file and line", bad, err)
		}
	}
	// The JSON true of older configurations means self: refused in mode
	// block, unless enrollment_block_mode says so.
	if err := provisionHandlerErr(t, `{"login":{"source":"users_file", "path":"USERS_FILE"},"mode":"block","mobile":{"state":"all"},"enrollment":true}`); err == nil ||
		!strings.Contains(err.Error(), "block_mode") {
		t.Errorf("JSON enrollment true in mode block: %v, want refused", err)
	}
	h, _ := provisionHandler(t, `{"login":{"source":"users_file", "path":"USERS_FILE"},"mode":"check","mobile":{"state":"all"},"enrollment":true}`)
	if h.device.Enrollment != "self" {
		t.Errorf("JSON enrollment true = %q, want self", h.device.Enrollment)
	}
	h, _ = provisionHandler(t, `{"login":{"source":"users_file", "path":"USERS_FILE"},"mode":"block","mobile":{"state":"all"}}`)
	if h.device.Enrollment != "admin" {
		t.Errorf("enrollment unset = %q, want admin", h.device.Enrollment)
	}

	// With block_mode the operator has chosen it: a password enrolls a
	// trusted device.
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile+"\n\t\tenrollment self block_mode")
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	link := promptActivationLink(openPrompt(t, b, "alice", "/"))
	if link == "" {
		t.Fatal("enrollment self block_mode offers no activation link")
	}
	dev, _, err := activate(t, link, gatetest.Android14)
	if err != nil {
		t.Fatal(err)
	}
	_, ans := inlineCheck(t, dev, b.get(gateURL+"/.trustgate/verify").body, gatetest.Healthy(), protocol.AnswerApprove)
	if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther {
		t.Fatalf("return: %d %s", r.status, r.body)
	}
	decodeUpstream(t, b.get(gateURL+"/"))
}

// provisionHandlerErr provisions a handler from JSON and returns the error.
func provisionHandlerErr(t *testing.T, handlerJSON string) error {
	t.Helper()
	_, _, err := provisionedHandler(t, handlerJSON)
	return err
}

var pixel9 = agent.DeviceInfo{Platform: "android", Model: "Pixel 9", OSVersion: "15", AppVersion: "1.0.0"}

// enrollmentPush waits for the one enrollment push of approver.
func enrollmentPush(t *testing.T, approver *agent.Agent) protocol.Push {
	t.Helper()
	pushes, err := approver.Pushes(context.Background(), 5*time.Second)
	if err != nil || len(pushes) != 1 {
		t.Fatalf("approver's pushes: %+v, %v", pushes, err)
	}
	p := pushes[0]
	if p.Kind != protocol.PushKindEnrollment || !p.NumberMatching || p.NewDevice == nil || p.NewDevice.Model != "Pixel 9" ||
		p.NewDevice.Platform != "android" || p.User != "alice" || p.Inline {
		t.Fatalf("enrollment push = %+v", p)
	}
	if raw, _ := json.Marshal(p); strings.Contains(string(raw), `"number"`) {
		t.Errorf("the push tells the approver the number: %s", raw)
	}
	return p
}

// newDeviceCode asks the prompt page of b (signed in as alice, who has a
// device) for a code to add a new device, and returns its activation link.
func newDeviceCode(t *testing.T, b *browser, page string) string {
	t.Helper()
	if !strings.Contains(page, "Add a new device") {
		t.Fatalf("enrollment approve offers no new device to a person with one:\n%s", page)
	}
	r := b.postForm(gateURL+"/.trustgate/verify/enroll", url.Values{"csrf": {formCSRF(t, page)}})
	if r.status != http.StatusSeeOther || r.location != "/.trustgate/verify" {
		t.Fatalf("asking for a new device's code: %d %q", r.status, r.location)
	}
	link := promptActivationLink(b.get(gateURL + r.location).body)
	if link == "" {
		t.Fatal("no activation link after asking for one")
	}
	return link
}

// pendingEnrollment opens a prompt for alice, asks for a new device's code
// and activates a new device with it, which must then wait for approval.
func pendingEnrollment(t *testing.T) (*agent.Agent, protocol.ActivateResponse) {
	t.Helper()
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	page := openPrompt(t, b, "alice", "/")
	if promptActivationLink(page) != "" {
		t.Fatalf("enrollment approve issues a code before it is asked for:\n%s", page)
	}
	dev, resp, err := activate(t, newDeviceCode(t, b, page), pixel9)
	if err != nil {
		t.Fatalf("activating the new device: %v", err)
	}
	if resp.Approval == nil || !regexp.MustCompile(`^[1-9][0-9]$`).MatchString(resp.Approval.Number) || !resp.Approval.Expires.After(time.Now()) {
		t.Fatalf("activation under enrollment approve = %+v, want a pending approval with a number", resp)
	}
	return dev, resp
}

func TestNewDeviceNeedsApprovalFromAnActiveDevice(t *testing.T) {
	up := newUpstream(t)
	deviceGateway(t, up, "block", pilotMobile+"\n\t\tenrollment approve")
	ctx := context.Background()

	// Without a device nobody could approve: the prompt offers nothing,
	// as under enrollment admin.
	b := newPhoneBrowser(t, gatetest.AndroidUA)
	if page := openPrompt(t, b, "alice", "/"); promptActivationLink(page) != "" || strings.Contains(page, `id="enroll"`) {
		t.Fatalf("enrollment approve offers a code to a person without a device:\n%s", page)
	}
	first := newDevice(t, "alice", agent.DeviceInfo{Platform: "ios", Model: "iPhone 15", OSVersion: "17.4", AppVersion: "1.0.0"})

	t.Run("wrong number refuses the new device", func(t *testing.T) {
		dev, resp := pendingEnrollment(t)
		p := enrollmentPush(t, first)
		wrong := fmt.Sprintf("%02d", (atoi(resp.Approval.Number)-9)%90+10)
		if _, err := first.Answer(ctx, gateURL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: wrong}); agent.ErrorCode(err) != "wrong_number" {
			t.Fatalf("approval with a wrong number: %v, want wrong_number", err)
		}
		if _, err := dev.Device(ctx); agent.ErrorCode(err) != "unknown_device" {
			t.Fatalf("refused device: %v, want unknown_device", err)
		}
		// The right number comes too late: the request is answered.
		if _, err := first.Answer(ctx, gateURL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: resp.Approval.Number}); err == nil {
			t.Fatal("a second answer was taken")
		}
	})

	t.Run("deny removes the new device", func(t *testing.T) {
		dev, _ := pendingEnrollment(t)
		p := enrollmentPush(t, first)
		ans, err := first.Answer(ctx, gateURL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny})
		if err != nil || ans.State != "denied" {
			t.Fatalf("deny: %+v, %v", ans, err)
		}
		if _, err := dev.Device(ctx); agent.ErrorCode(err) != "unknown_device" {
			t.Fatalf("denied device: %v, want unknown_device", err)
		}
	})

	t.Run("pending device cannot vouch; approval with the number activates it", func(t *testing.T) {
		dev, resp := pendingEnrollment(t)
		p := enrollmentPush(t, first)
		// Pending, the new device is unknown to the device API: it can
		// neither read pushes, nor report for a check, nor give a passcode.
		if _, err := dev.Device(ctx); agent.ErrorCode(err) != "unknown_device" {
			t.Fatalf("pending device reads its record: %v", err)
		}
		if _, err := dev.Pushes(ctx, 0); agent.ErrorCode(err) != "unknown_device" {
			t.Fatalf("pending device reads pushes: %v", err)
		}
		b := newPhoneBrowser(t, gatetest.AndroidUA)
		page := openPrompt(t, b, "alice", "/v")
		_, link := gatetest.PromptLinks(t, page)
		if _, err := dev.Verify(ctx, link, gatetest.Healthy()); agent.ErrorCode(err) != "unknown_device" {
			t.Fatalf("pending device reports for a check: %v", err)
		}
		code, err := dev.Passcode(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if r := b.postForm(gateURL+"/.trustgate/verify/passcode", url.Values{"csrf": {formCSRF(t, page)}, "passcode": {code}}); r.status != http.StatusUnauthorized {
			t.Fatalf("pending device's passcode: %d %q, want 401", r.status, r.location)
		}
		if strings.Contains(page, "Pixel 9") {
			t.Errorf("the prompt offers to send a request to the pending device")
		}

		ans, err := first.Answer(ctx, gateURL, p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: resp.Approval.Number})
		if err != nil || ans.State != "approved" {
			t.Fatalf("approval: %+v, %v", ans, err)
		}
		rec, err := dev.Device(ctx)
		if err != nil || rec.User != "alice" || rec.Model != "Pixel 9" {
			t.Fatalf("approved device: %+v, %v", rec, err)
		}
		// Approved, it checks this phone and lets alice in.
		b = newPhoneBrowser(t, gatetest.AndroidUA)
		_, ans = inlineCheck(t, dev, openPrompt(t, b, "alice", "/v"), gatetest.Healthy(), protocol.AnswerApprove)
		if r := b.get(ans.ReturnURL); r.status != http.StatusSeeOther {
			t.Fatalf("return: %d %s", r.status, r.body)
		}
		decodeUpstream(t, b.get(gateURL+"/v"))

		// A code is refused once no active device is left to approve it.
		b = newPhoneBrowser(t, gatetest.AndroidUA)
		page = openPrompt(t, b, "alice", "/")
		link = newDeviceCode(t, b, page)
		for _, a := range []*agent.Agent{first, dev} {
			if status, out := adminPost(t, "/trusted-endpoints/devices/"+url.PathEscape(a.DeviceID())+"/revoke", ""); status != http.StatusOK {
				t.Fatalf("revoking: %d %s", status, out)
			}
		}
		// Nor does the prompt hand out another.
		if r := b.postForm(gateURL+"/.trustgate/verify/enroll", url.Values{"csrf": {formCSRF(t, page)}}); r.status != http.StatusForbidden {
			t.Fatalf("asking for a code with no device left: %d %q", r.status, r.location)
		}
		if _, _, err := activate(t, link, pixel9); agent.ErrorCode(err) != "enrollment_refused" {
			t.Fatalf("enrollment approve code with no active device left: %v, want enrollment_refused", err)
		}
	})
}
