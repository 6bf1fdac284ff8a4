package caddymodule

// Managed devices through the real Caddy over mutual TLS: the site's own
// tls client_auth (verify_if_given) verifies device certificates a test CA
// issued, the inventory goes in through the admin endpoint, and the gate
// decides from the verified certificate.

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store"
)

// managedSiteURL is the site of the managed-device tests.
func managedSiteURL() string { return siteURL("https", "managed.localhost") }

// startManagedSite starts a site in mode that asks browsers for a client
// certificate and verifies any it gets against ca (Caddy's client_auth,
// verify_if_given), with managed on for everyone on the desktops and the
// mobile app on for everyone on phones, and returns its upstream.
func startManagedSite(t *testing.T, ca *gatetest.CA, mode string) *upstream {
	t.Helper()
	return startManagedSiteWith(t, ca, mode, "mobile {\n\t\t\tenable all\n\t\t}\n\t\tmanaged {\n\t\t\tenable all\n\t\t}")
}

// startManagedSiteWith is startManagedSite with integrations instead of
// its mobile and managed blocks.
func startManagedSiteWith(t *testing.T, ca *gatetest.CA, mode, integrations string) *upstream {
	t.Helper()
	caFile := filepath.Join(t.TempDir(), "device-ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	up := newUpstream(t)
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
%s {
	tls internal {
		client_auth {
			mode verify_if_given
			trust_pool file %s
		}
	}
	trusted_endpoints {
		application managed-app
		login users_file %s
		mode %s
		%s
	}
	reverse_proxy %s
}
`, managedSiteURL(), caFile, gatetest.WriteUsersFile(t), mode, integrations, up.hostPort()))
	waitForCertificates(t, managedSiteURL())
	return up
}

// certBrowser is a browser of user agent ua on loopback that presents
// cert (none when nil) when the site asks for a client certificate.
func certBrowser(t *testing.T, ua string, cert *tls.Certificate) *browser {
	t.Helper()
	b := newSiteBrowser(t, ua)
	tr := siteTransport("").(*http.Transport)
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{*cert}
	}
	b.client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		r.Header.Set("User-Agent", ua)
		return tr.RoundTrip(r)
	})
	return b
}

// activateInventoryCSV uploads csv as a new inventory through the admin
// endpoint and activates it.
func activateInventoryCSV(t *testing.T, csv string) {
	t.Helper()
	id := adminInventory(t)
	var out map[string]any
	if status := adminDo(t, "PUT", "/trusted-endpoints/inventories/"+id+"/entries", "text/csv", csv, &out); status != http.StatusOK {
		t.Fatalf("upload: %d %v", status, out)
	}
	if status := adminDo(t, "POST", "/trusted-endpoints/inventories/"+id+"/activate", "", "", &out); status != http.StatusOK {
		t.Fatalf("activate: %d %v", status, out)
	}
}

// inventoryOf is an inventory CSV naming each certificate by its
// fingerprint, in the form management consoles print it (upper case,
// colons), as a Windows desktop.
func inventoryOf(certs ...*tls.Certificate) string {
	var b strings.Builder
	b.WriteString("fingerprint,platform,owner,label\n")
	for i, c := range certs {
		fp := strings.ToUpper(gatetest.Fingerprint(c))
		var pairs []string
		for j := 0; j < len(fp); j += 2 {
			pairs = append(pairs, fp[j:j+2])
		}
		fmt.Fprintf(&b, "%s,windows,,desk-%d\n", strings.Join(pairs, ":"), i+1)
	}
	return b.String()
}

// loginAt posts user's credentials on the site's login form and returns
// the answer.
func (b *browser) loginAt(base, user string) response {
	b.t.Helper()
	r := b.get(base + "/.trustgate/login?return=%2Fapp")
	if r.status != http.StatusOK {
		b.t.Fatalf("login form: %d %s", r.status, r.body)
	}
	return b.postForm(base+"/.trustgate/login", url.Values{
		"csrf": {formCSRF(b.t, r.body)}, "username": {user}, "password": {gatetest.Users[user].Password},
	})
}

// wantManagedDenial fails t unless r is the managed check's denial with
// reason.
func wantManagedDenial(t *testing.T, what string, r response, reason string) {
	t.Helper()
	if r.status != http.StatusForbidden || !strings.Contains(r.body, `data-reason="`+reason+`"`) ||
		!strings.Contains(r.body, `data-integration="managed"`) {
		t.Fatalf("%s: %d, want the managed check's denial with %s\n%s", what, r.status, reason, r.body)
	}
}

// TestManagedDesktopsOverMutualTLS: in mode block, a desktop whose
// certificate is in the inventory gets in; one without a certificate, or
// with one of the organisation's CA that the inventory does not list, is
// denied with the reason; a new inventory without the device takes its
// trust away on its next request; its session cookie, replayed over a
// connection without the certificate, is not trusted; a certificate of
// another CA does not even get through the handshake.
func TestManagedDesktopsOverMutualTLS(t *testing.T) {
	ca := gatetest.NewCA(t, "Test device CA")
	up := startManagedSite(t, ca, "block")
	site := managedSiteURL()
	laptop, other := ca.Issue(t, "desk-1"), ca.Issue(t, "desk-2")
	activateInventoryCSV(t, inventoryOf(laptop))

	managed := certBrowser(t, gatetest.DesktopUA, laptop)
	if r := managed.loginAt(site, "alice"); r.status != http.StatusSeeOther || r.location != "/app" {
		t.Fatalf("managed desktop's login: %d → %q\n%s", r.status, r.location, r.body)
	}
	if r := managed.get(site + "/app"); r.status != http.StatusOK || up.Hits() != 1 {
		t.Fatalf("managed desktop: %d, upstream hits %d", r.status, up.Hits())
	}
	if e := lastLog(t, "alice"); e.Integration != "managed" || e.Factor != "managed_certificate" || e.Result != store.ResultSuccess {
		t.Fatalf("auth log %+v, want a success vouched for by a managed certificate", e)
	}

	wantManagedDenial(t, "a desktop without a certificate",
		certBrowser(t, gatetest.DesktopUA, nil).loginAt(site, "bob"), "no_device_certificate")
	wantManagedDenial(t, "a certificate the inventory does not list",
		certBrowser(t, gatetest.DesktopUA, other).loginAt(site, "bob"), "not_managed")

	// The managed desktop's cookie, copied to a connection without the
	// certificate, carries the identity but not the device's trust.
	thief := certBrowser(t, gatetest.DesktopUA, nil)
	thief.client.Jar.SetCookies(mustURL(t, site), managed.client.Jar.Cookies(mustURL(t, site)))
	if r := thief.get(site + "/app"); r.status == http.StatusOK {
		t.Fatalf("the replayed cookie reached the application without the certificate:\n%s", r.body)
	}

	// A new inventory without the laptop: its next request is refused.
	activateInventoryCSV(t, inventoryOf(other))
	if r := managed.get(site + "/app"); r.status == http.StatusOK {
		t.Fatalf("the removed desktop still reaches the application:\n%s", r.body)
	}
	if up.Hits() != 1 {
		t.Errorf("upstream hits %d, want only the managed desktop's first request", up.Hits())
	}

	// A certificate of another CA fails the handshake (verify_if_given):
	// the gate never sees it.
	forged := gatetest.NewCA(t, "Test device CA").Issue(t, "desk-1")
	if _, err := certBrowser(t, gatetest.DesktopUA, forged).client.Get(site + "/app"); err == nil || !isTLSRefusal(err) {
		t.Fatalf("a certificate of another CA: %v, want the handshake refused", err)
	}
}

// TestManagedIsNotConsultedWhereMobileApplies: a phone with mobile on gets
// the mobile app's prompt even with a certificate whose fingerprint the
// inventory lists (the mobile default); the auth log says mobile.
func TestManagedIsNotConsultedWhereMobileApplies(t *testing.T) {
	ca := gatetest.NewCA(t, "Test device CA")
	startManagedSite(t, ca, "block")
	site := managedSiteURL()
	phone := ca.Issue(t, "phone-1")
	activateInventoryCSV(t, strings.Replace(inventoryOf(phone), "windows", "android", 1))

	r := certBrowser(t, gatetest.AndroidUA, phone).loginAt(site, "alice")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/.trustgate/verify") {
		t.Fatalf("phone's login: %d → %q, want the mobile check's prompt\n%s", r.status, r.location, r.body)
	}
	for _, e := range authLog(t, "user=alice") {
		if e.Integration == "managed" || e.Factor == "managed_certificate" {
			t.Fatalf("the managed integration decided for a phone where mobile applies: %+v", e)
		}
	}
}

// TestManagedVouchesWhereMobileIsOff: with the mobile app on for iOS only,
// an Android phone whose certificate the inventory lists (as an android
// device, a platform the managed block enables) is vouched for by the
// managed integration and gets in, in mode block.
func TestManagedVouchesWhereMobileIsOff(t *testing.T) {
	ca := gatetest.NewCA(t, "Test device CA")
	up := startManagedSiteWith(t, ca, "block",
		"mobile {\n\t\t\tenable all\n\t\t\tplatforms ios\n\t\t}\n\t\tmanaged {\n\t\t\tenable all\n\t\t\tplatforms android windows\n\t\t}")
	site := managedSiteURL()
	phone := ca.Issue(t, "phone-1")
	activateInventoryCSV(t, strings.Replace(inventoryOf(phone), "windows", "android", 1))

	b := certBrowser(t, gatetest.AndroidUA, phone)
	if r := b.loginAt(site, "alice"); r.status != http.StatusSeeOther || r.location != "/app" {
		t.Fatalf("phone's login: %d → %q, want straight to /app\n%s", r.status, r.location, r.body)
	}
	if r := b.get(site + "/app"); r.status != http.StatusOK || up.Hits() != 1 {
		t.Fatalf("phone vouched for by managed: %d, upstream hits %d", r.status, up.Hits())
	}
	if e := lastLog(t, "alice"); e.Integration != "managed" || e.Factor != "managed_certificate" {
		t.Fatalf("auth log %+v, want the managed integration's login", e)
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// isTLSRefusal reports whether err is the server refusing the handshake
// with a TLS alert (in TLS 1.3 the client reads it on its first read, as
// "remote error: tls: ...").
func isTLSRefusal(err error) bool {
	var alert tls.AlertError
	return errors.As(err, &alert) || strings.Contains(err.Error(), "remote error: tls:")
}
