package caddymodule

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

var (
	activationCodeRE  = regexp.MustCompile(`id="activation-code">([^<]+)<`)
	activationHTTPSRE = regexp.MustCompile(`id="activation-https-link" href="([^"]+)"`)
)

func TestDashboardIssuesActivationCode(t *testing.T) {
	dashboardGateway(t)
	alice := dashLogin(t, "alice")
	if r := alice.get(dashURL + "/admin/endpoints"); !strings.Contains(r.body, `href="/admin/activate"`) {
		t.Fatalf("the endpoints page has no way to issue an activation code:\n%s", r.body)
	}
	r := alice.get(dashURL + "/admin/activate")
	if r.status != http.StatusOK {
		t.Fatalf("activation page: %d\n%s", r.status, r.body)
	}
	csrf := formCSRF(t, r.body)
	form := url.Values{"csrf": {csrf}, "user": {"alice"}, "origin": {gateURL}}

	// Not without the session's token, nor for a non-admin.
	if r := alice.postForm(dashURL+"/admin/activate", url.Values{"user": {"alice"}, "origin": {gateURL}}); r.status != http.StatusForbidden {
		t.Errorf("activation without CSRF token: %d", r.status)
	}
	bob := newBrowser(t)
	r = bob.get(dashURL + "/admin/")
	r = bob.get(dashURL + r.location)
	bob.postForm(dashURL+"/.trustgate/login", url.Values{"csrf": {formCSRF(t, r.body)}, "username": {"bob"}, "password": {gatetest.Users["bob"].Password}})
	if r := bob.postForm(dashURL+"/admin/activate", form); r.status != http.StatusForbidden || strings.Contains(r.body, "activation-code") {
		t.Errorf("non-admin activation: %d", r.status)
	}
	if r := alice.postForm(dashURL+"/admin/activate", url.Values{"csrf": {csrf}, "user": {""}}); r.status != http.StatusBadRequest {
		t.Errorf("activation without a user: %d", r.status)
	}

	r = alice.postForm(dashURL+"/admin/activate", form)
	code, link := activationCodeRE.FindStringSubmatch(r.body), activationHTTPSRE.FindStringSubmatch(r.body)
	if r.status != http.StatusOK || code == nil || link == nil || !strings.Contains(r.body, `src="data:image/png;base64,`) {
		t.Fatalf("issued activation: %d\n%s", r.status, r.body)
	}
	// The code activates a device for alice on the application's site,
	// which takes only admin codes (enrollment admin, the default).
	dev := gatetest.NewAgent(t, nil)
	resp, err := dev.Activate(context.Background(), html.UnescapeString(link[1]), gatetest.Android14)
	if err != nil || resp.User != "alice" || resp.Approval != nil {
		t.Fatalf("activating with the dashboard's code: %+v, %v", resp, err)
	}
	if _, err := dev.Device(context.Background()); err != nil {
		t.Fatal(err)
	}
}
