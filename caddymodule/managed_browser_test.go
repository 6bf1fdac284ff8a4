package caddymodule

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/secret"
)

// chromiumPolicyDir is where Debian's Chromium reads managed policies.
const chromiumPolicyDir = "/etc/chromium/policies/managed"

// needForBrowserCertificate fails the test in CI, and skips it elsewhere,
// for a missing tool or permission the browser-certificate test needs.
func needForBrowserCertificate(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI: "+format, args...)
	}
	t.Skipf("skipping the managed-desktop browser test: "+format, args...)
}

// chromiumClientCertificate makes home the HOME of a Chromium that holds
// cert (as a person's browser holds the certificate their management
// system installed, in the NSS database under ~/.pki/nssdb), and writes a
// managed policy that has Chromium present it, unasked, to localhost sites
// that ask for a certificate of issuer: how a browser is given a client
// certificate with no one to click its picker. The policy file is removed
// when the test ends.
func chromiumClientCertificate(t *testing.T, home, issuer string, certDER []byte, keyDER []byte) {
	t.Helper()
	for _, tool := range []string{"certutil", "pk12util", "openssl"} {
		if _, err := exec.LookPath(tool); err != nil {
			needForBrowserCertificate(t, "%s not found (apt-get install -y libnss3-tools openssl)", tool)
		}
	}
	if err := os.MkdirAll(chromiumPolicyDir, 0o755); err != nil {
		needForBrowserCertificate(t, "cannot write Chromium's managed policy (%v); run as root", err)
	}
	policy := filepath.Join(chromiumPolicyDir, "trustgate-test-"+secret.Token()[:12]+".json")
	rule := fmt.Sprintf(`{"pattern":"https://[*.]localhost","filter":{"ISSUER":{"CN":%q}}}`, issuer)
	body := fmt.Sprintf(`{"AutoSelectCertificateForUrls": [%q]}`, rule)
	if err := os.WriteFile(policy, []byte(body), 0o644); err != nil {
		needForBrowserCertificate(t, "cannot write Chromium's managed policy (%v); run as root", err)
	}
	t.Cleanup(func() { os.Remove(policy) })

	dir := t.TempDir()
	keyFile, certFile, p12 := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "device.p12")
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	writePEM(t, certFile, "CERTIFICATE", certDER)
	nssdb := "sql:" + filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(filepath.Join(home, ".pki", "nssdb"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"certutil", "-N", "-d", nssdb, "--empty-password"},
		{"openssl", "pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-out", p12, "-passout", "pass:"},
		{"pk12util", "-d", nssdb, "-i", p12, "-W", ""},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd, " "), err, out)
		}
	}
}

func writePEM(t *testing.T, path, kind string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestManagedDesktopSignsInWithItsCertificateInChromium: a real desktop
// browser (headless Chromium on Linux) that holds a managed device's
// certificate signs in on a mode block site and reaches the application,
// trusted by the managed integration; the same browser without the
// certificate is denied.
func TestManagedDesktopSignsInWithItsCertificateInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	issuer := "trustgate test device CA " + secret.Token()[:8]
	ca := gatetest.NewCA(t, issuer)
	startManagedSite(t, ca, "block")
	site := managedSiteURL()
	laptop := ca.Issue(t, "desk-1")
	activateInventoryCSV(t, strings.Replace(inventoryOf(laptop), "windows", "linux", 1))

	home := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(laptop.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	chromiumClientCertificate(t, home, issuer, laptop.Certificate[0], keyDER)

	ctx := desktopChromium(t, chromium, home)
	signInInChromium(t, ctx, site+"/app", "alice")
	waitFor(t, ctx, "the application's answer", `document.body.innerText.includes('"path":"/app"')`)
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body.innerText"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body, "X-Trustgate-Device-Trust") || !strings.Contains(body, `"trusted"`) {
		t.Errorf("the application did not get a trusted device's headers:\n%s", body)
	}
	if e := lastLog(t, "alice"); e.Integration != "managed" || e.Factor != "managed_certificate" {
		t.Errorf("auth log %+v, want alice's login vouched for by the managed certificate", e)
	}

	// The same Chromium without the certificate (a HOME without it) is
	// denied by the managed check.
	bare := desktopChromium(t, chromium, t.TempDir())
	signInInChromium(t, bare, site+"/app", "bob")
	waitFor(t, bare, "the denial page", `document.querySelector('[data-reason="no_device_certificate"]')`)
	if e := lastLog(t, "bob"); e.Integration != "managed" || e.Result != "denied" {
		t.Errorf("auth log %+v, want bob denied by the managed check", e)
	}
	if err := chromedp.Do(bare, chromedp.Navigate(site+"/app")); err != nil {
		t.Fatal(err)
	}
	if body, err := chromedp.Run(bare, chromedp.Evaluate[string]("document.body.innerText")); err != nil || strings.Contains(body, `"path":"/app"`) {
		t.Errorf("the browser without the certificate reached the application (%v):\n%s", err, body)
	}
}

// desktopChromium starts headless Chromium as a desktop browser whose HOME
// (and so NSS database) is home, trusting the test Caddy's internal CA.
func desktopChromium(t *testing.T, chromium, home string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("ignore-certificate-errors", true), // the test Caddy's internal CA, loopback only
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("HOME="+home),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	return ctx
}

// signInInChromium opens target and signs in as user on the login form.
func signInInChromium(t *testing.T, ctx context.Context, target, user string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(target)); err != nil {
		t.Fatalf("opening %s: %v", target, err)
	}
	waitFor(t, ctx, "the login form", `document.querySelector('#username')`)
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#username`), user),
		chromedp.SendKeys(chromedp.CSS(`#password`), gatetest.Users[user].Password),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
	)
	if err != nil {
		t.Fatalf("signing in as %s: %v", user, err)
	}
}
