package prompt_test

// The managed-device check at the gate, over real TLS: a test CA issues
// device certificates, the gateway verifies them (verify_if_given), and
// the active inventory, loaded from the gateway's SQLite store, says which
// devices are managed.

import (
	"crypto/tls"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/store"
)

// managedSite is a gateway in mode whose managed integration applies to
// everyone on the platforms given (its default: the desktops), with the
// mobile one of PilotPolicy changed by mobile (nil: unchanged), over TLS
// that verifies client certificates against ca.
func managedSite(t *testing.T, mode policy.Mode, ca *gatetest.CA, mobile func(*policy.Integration), platforms ...policy.Platform) *gatetest.Gateway {
	t.Helper()
	return gatetest.New(t, gatetest.Options{
		Mode: mode,
		Policy: func(p *policy.Policy) {
			p.Managed = policy.Managed{State: policy.All, Platforms: platforms}
			if mobile != nil {
				mobile(&p.Integration)
			}
		},
		TLS: gatetest.ManagedTLS(ca.Pool()),
	})
}

// entry is an inventory entry for cert on platform.
func entry(cert *tls.Certificate, platform, label string) store.InventoryEntry {
	return store.InventoryEntry{Fingerprint: gatetest.Fingerprint(cert), Platform: platform, Label: label}
}

// signIn signs user in on b and returns where the login post sends it.
func signIn(b *gatetest.Browser, user string) string {
	return b.Login(user, gatetest.Users[user].Password, "/app")
}

// wantDenied checks that r is the denial page of the managed check with
// reason, and that the auth log's newest entry of user says so.
func wantDenied(t *testing.T, gw *gatetest.Gateway, r gatetest.Response, user, reason string) {
	t.Helper()
	if r.Status != http.StatusForbidden || !strings.Contains(r.Body, `data-reason="`+reason+`"`) ||
		!strings.Contains(r.Body, `data-integration="managed"`) {
		t.Fatalf("want the managed check's denial with %s, got %d:\n%s", reason, r.Status, r.Body)
	}
	e := gw.LastLog(t, user)
	if e.Result != store.ResultDenied || e.Integration != "managed" || !slices.Equal(e.FailedRequirements, []string{reason}) ||
		e.TrustStatus != string(policy.NotTrusted) {
		t.Errorf("auth log = %+v, want denied by managed with %s", e, reason)
	}
}

// wantManagedTrust checks that the auth log's newest entry of user is a
// login a managed device vouched for.
func wantManagedTrust(t *testing.T, gw *gatetest.Gateway, user string) {
	t.Helper()
	e := gw.LastLog(t, user)
	if e.Result != store.ResultSuccess || e.Factor != "managed_certificate" || e.Integration != "managed" ||
		e.TrustStatus != string(policy.Trusted) || e.Reason != "valid_device_certificate" {
		t.Errorf("auth log = %+v, want a success with factor managed_certificate, integration managed", e)
	}
}

func TestManagedDesktopGetsInInBlockMode(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeBlock, ca, nil)
	cert := ca.Issue(t, "laptop-1")
	gw.ActivateInventory(t, "inv-1", entry(cert, "windows", "laptop-1"))

	b := gw.NewBrowserWithCertificate(gatetest.DesktopUA, cert)
	if loc := signIn(b, "bob"); loc != "/app" {
		t.Fatalf("after login: redirected to %q, want /app", loc)
	}
	gatetest.DecodeUpstream(t, b.Get("/app"))
	wantManagedTrust(t, gw, "bob")
	e := gw.LastLog(t, "bob")
	if !strings.Contains(e.Detail, "laptop-1") || !strings.Contains(e.Detail, "inv-1") {
		t.Errorf("auth log detail = %q, want the device's label and inventory", e.Detail)
	}
	var m store.ManagedLogin
	if err := json.Unmarshal(e.DeviceFacts, &m); err != nil || m.Inventory != "inv-1" || m.Device.Label != "laptop-1" || m.Device.Fingerprint != gatetest.Fingerprint(cert) {
		t.Errorf("auth log facts = %s (%v), want the inventory and the device's entry", e.DeviceFacts, err)
	}
}

func TestUnmanagedDesktopIsDeniedWithTheReason(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeBlock, ca, nil)
	gw.ActivateInventory(t, "inv-1", entry(ca.Issue(t, "laptop-1"), "windows", "laptop-1"))

	r := loginPost(t, gw.NewBrowser(gatetest.DesktopUA), "bob")
	wantDenied(t, gw, r, "bob", "no_device_certificate")
	if !strings.Contains(r.Body, "managed-device check decided") {
		t.Errorf("the denial page does not say the managed-device check decided:\n%s", r.Body)
	}
}

func TestUnmanagedDesktopInCheckModeIsLoggedAsWouldBlock(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeCheck, ca, nil)
	b := gw.NewBrowser(gatetest.DesktopUA)
	if loc := signIn(b, "bob"); loc != "/app" {
		t.Fatalf("after login: redirected to %q, want /app (mode check)", loc)
	}
	gatetest.DecodeUpstream(t, b.Get("/app"))
	e := gw.LastLog(t, "bob")
	if !e.WouldBlock || e.Integration != "managed" || !slices.Equal(e.FailedRequirements, []string{"no_device_certificate"}) {
		t.Errorf("auth log = %+v, want would_block by managed with no_device_certificate", e)
	}
}

func TestCertificateAbsentFromTheInventoryIsDenied(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeBlock, ca, nil)
	gw.ActivateInventory(t, "inv-1", entry(ca.Issue(t, "laptop-1"), "windows", "laptop-1"))

	// Issued by the organisation's CA, so the handshake verifies it, but
	// not a device of the inventory.
	b := gw.NewBrowserWithCertificate(gatetest.DesktopUA, ca.Issue(t, "laptop-2"))
	wantDenied(t, gw, loginPost(t, b, "bob"), "bob", "not_managed")
}

// TestUnverifiedCertificateIsNeverRead: a site that asks for client
// certificates without verifying them (tls RequestClientCert) hands the
// gate a certificate in PeerCertificates only; even one whose fingerprint
// the inventory holds vouches for nothing.
func TestUnverifiedCertificateIsNeverRead(t *testing.T) {
	t.Parallel()
	forger := gatetest.NewCA(t, "someone's own CA")
	cert := forger.Issue(t, "laptop-1")
	gw := gatetest.New(t, gatetest.Options{
		Mode:   policy.ModeBlock,
		Policy: func(p *policy.Policy) { p.Managed = policy.Managed{State: policy.All} },
		TLS:    &tls.Config{ClientAuth: tls.RequestClientCert},
	})
	gw.ActivateInventory(t, "inv-1", entry(cert, "windows", "laptop-1"))
	b := gw.NewBrowserWithCertificate(gatetest.DesktopUA, cert)
	wantDenied(t, gw, loginPost(t, b, "bob"), "bob", "no_device_certificate")
}

func TestRemovedDeviceLosesTrustOnItsNextRequest(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeBlock, ca, nil)
	cert, other := ca.Issue(t, "laptop-1"), ca.Issue(t, "laptop-2")
	gw.ActivateInventory(t, "inv-1", entry(cert, "macos", "laptop-1"), entry(other, "linux", "laptop-2"))

	b := gw.NewBrowserWithCertificate(gatetest.DesktopUA, cert)
	signIn(b, "bob")
	gatetest.DecodeUpstream(t, b.Get("/app"))

	gw.ActivateInventory(t, "inv-2", entry(other, "linux", "laptop-2"))
	wantDenied(t, gw, b.Get("/app"), "bob", "not_managed")
}

// TestReplayedSessionCookieWithoutTheCertificateIsNotTrusted: the trust of
// a session a managed device vouched for is bound to its certificate: the
// cookie copied to a connection without it, or with another one, is not
// let through on that trust. (On another managed device the check runs
// again and that device vouches for itself: the 303 of a new check.)
func TestReplayedSessionCookieWithoutTheCertificateIsNotTrusted(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	gw := managedSite(t, policy.ModeBlock, ca, nil)
	cert, managedToo := ca.Issue(t, "laptop-1"), ca.Issue(t, "laptop-2")
	gw.ActivateInventory(t, "inv-1", entry(cert, "windows", "laptop-1"), entry(managedToo, "windows", "laptop-2"))
	owner := gw.NewBrowserWithCertificate(gatetest.DesktopUA, cert)
	signIn(owner, "bob")
	gatetest.DecodeUpstream(t, owner.Get("/app"))

	for _, tc := range []struct {
		name   string
		cert   *tls.Certificate
		status int
	}{
		{"no certificate", nil, http.StatusForbidden},
		{"a certificate of the CA, not managed", ca.Issue(t, "laptop-9"), http.StatusForbidden},
		{"another managed device", managedToo, http.StatusSeeOther},
	} {
		thief := gw.NewBrowserWithCertificate(gatetest.DesktopUA, tc.cert)
		owner.CopyCookiesTo(thief)
		if r := thief.Get("/app"); r.Status != tc.status {
			t.Errorf("%s: the copied cookie got %d, want %d:\n%s", tc.name, r.Status, tc.status, r.Body)
		}
	}
	// The owner's own connection still holds the trust.
	gatetest.DecodeUpstream(t, owner.Get("/app"))
}

// TestMobileIsTheDefaultOnPhones: where the mobile check applies to the
// person on a phone's platform, managed is not consulted, whatever the
// user agent says; where mobile is off for it, managed may vouch.
func TestMobileIsTheDefaultOnPhones(t *testing.T) {
	t.Parallel()
	ca := gatetest.NewCA(t, "device CA")
	all := []policy.Platform{policy.Windows, policy.MacOS, policy.Linux, policy.IOS, policy.Android}

	t.Run("phone with mobile on gets the mobile prompt", func(t *testing.T) {
		t.Parallel()
		gw := managedSite(t, policy.ModeBlock, ca, nil, all...)
		cert := ca.Issue(t, "phone-1")
		gw.ActivateInventory(t, "inv-1", entry(cert, "android", "phone-1"))
		b := gw.NewBrowserWithCertificate(gatetest.AndroidUA, cert)
		if loc := signIn(b, "alice"); loc != "/.trustgate/verify" {
			t.Fatalf("after login: redirected to %q, want the mobile prompt", loc)
		}
	})
	t.Run("phone's entry behind a desktop user agent vouches for nothing", func(t *testing.T) {
		t.Parallel()
		gw := managedSite(t, policy.ModeBlock, ca, nil, all...)
		cert := ca.Issue(t, "phone-2")
		gw.ActivateInventory(t, "inv-1", entry(cert, "android", "phone-2"))
		b := gw.NewBrowserWithCertificate(gatetest.DesktopUA, cert)
		wantDenied(t, gw, loginPost(t, b, "alice"), "alice", "not_managed")
	})
	t.Run("mobile off for android lets managed vouch", func(t *testing.T) {
		t.Parallel()
		gw := managedSite(t, policy.ModeBlock, ca, func(in *policy.Integration) {
			in.Platforms = []policy.Platform{policy.IOS}
		}, all...)
		cert := ca.Issue(t, "phone-3")
		gw.ActivateInventory(t, "inv-1", entry(cert, "android", "phone-3"))
		b := gw.NewBrowserWithCertificate(gatetest.AndroidUA, cert)
		if loc := signIn(b, "alice"); loc != "/app" {
			t.Fatalf("after login: redirected to %q, want /app", loc)
		}
		gatetest.DecodeUpstream(t, b.Get("/app"))
		wantManagedTrust(t, gw, "alice")
	})
}

// loginPost signs user in on b up to the login post, and returns its
// answer (the denial page when the device check refuses).
func loginPost(t *testing.T, b *gatetest.Browser, user string) gatetest.Response {
	t.Helper()
	r := b.Get("/app")
	if r.Status != http.StatusFound {
		t.Fatalf("GET /app before login: %d", r.Status)
	}
	r = b.Get(r.Location)
	return b.SubmitLogin(gatetest.FormCSRF(t, r.Body), user, gatetest.Users[user].Password)
}
