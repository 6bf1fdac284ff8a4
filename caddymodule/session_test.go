package caddymodule

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// storedCodec opens a second handle on the gateway's store, as another
// instance would, and returns a codec with the stored keys.
func storedCodec(t *testing.T, dbPath string) *session.CookieCodec {
	t.Helper()
	st, err := sqlitestore.Open(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	keys, err := st.CookieKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	codec, err := session.NewCookieCodec(keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	return codec
}

// withSession returns a GET request that carries the given session cookie.
func withSession(t *testing.T, path, value string) *http.Request {
	req, err := http.NewRequest(http.MethodGet, gateURL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "tg_session", Value: value})
	return req
}

func TestSessionCookieAttributes(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "")
	b := newBrowser(t)
	csrf := b.openLoginForm("/")
	r := b.submitLogin(csrf, "alice", gatetest.Users["alice"].Password)
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "tg_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/" || session.Domain != "" {
		t.Fatalf("session cookie attributes: %+v", session)
	}
	if session.MaxAge != 8*3600 {
		t.Fatalf("session cookie max-age %d, want the default 8h", session.MaxAge)
	}
}

func TestForgedTamperedAndExpiredSessionsAreRefused(t *testing.T) {
	up := newUpstream(t)
	dbPath := usersGateway(t, up, "")
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")
	good := b.sessionCookie()
	codec := storedCodec(t, dbPath)
	now := time.Now()

	tampered := []byte(good)
	tampered[len(tampered)/2] ^= 0x01
	otherKey, _ := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(now)}, nil)
	foreign, _ := otherKey.Encode("tg_session", session.Session{
		Identity: session.Identity{User: "mallory"}, ID: "x", IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix(),
	})
	expired, _ := codec.Encode("tg_session", session.Session{
		Identity: session.Identity{User: "alice"}, ID: "y", IssuedAt: now.Add(-9 * time.Hour).Unix(), ExpiresAt: now.Add(-time.Hour).Unix(),
	})
	// The control below is made in alice's realm, the site's.
	var alices session.Session
	if err := codec.Decode("tg_session", good, &alices); err != nil || alices.Realm == "" {
		t.Fatalf("alice's session: realm %q, %v", alices.Realm, err)
	}
	valid, _ := codec.Encode("tg_session", session.Session{
		Identity: session.Identity{User: "carol"}, ID: "z", IssuedAt: now.Unix(), ExpiresAt: now.Add(time.Hour).Unix(),
		Realm: alices.Realm,
	})
	cases := map[string]string{
		"tampered":           string(tampered),
		"signed elsewhere":   foreign,
		"expired":            expired,
		"plain text":         "alice",
		"base64 garbage":     base64.StdEncoding.EncodeToString([]byte("user=alice|exp=9999999999")),
		"empty":              "",
		"other cookie value": mustFlowLike(t, codec),
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			r := newBrowser(t).do(withSession(t, "/private", value))
			if r.status != http.StatusFound {
				t.Fatalf("status %d, want a redirect to login", r.status)
			}
		})
	}
	if up.Hits() != 0 {
		t.Fatalf("upstream reached %d times with a bad cookie", up.Hits())
	}
	// The control: a cookie made with the store's key is accepted, so the
	// refusals above are about the cookies, not the harness.
	v := decodeUpstream(t, newBrowser(t).do(withSession(t, "/private", valid)))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "carol" {
		t.Fatalf("valid stored-key cookie: user %q", got)
	}
}

// mustFlowLike returns a value encoded for another cookie name, which must
// not be accepted as a session.
func mustFlowLike(t *testing.T, codec *session.CookieCodec) string {
	v, err := codec.Encode("tg_flow", session.Session{Identity: session.Identity{User: "alice"}, ExpiresAt: time.Now().Add(time.Hour).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRotatedKeyKeepsOldSessions(t *testing.T) {
	up := newUpstream(t)
	dbPath := usersGateway(t, up, "")
	b := newBrowser(t)
	b.login("bob", gatetest.Users["bob"].Password, "/")
	before := storedCodec(t, dbPath).KeyIDs()

	resp, err := http.Post(adminURL+"/trusted-endpoints/cookie-keys/rotate", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("rotate: %d", resp.StatusCode)
	}
	after := storedCodec(t, dbPath).KeyIDs()
	if len(after) != len(before)+1 || after[1] != before[0] {
		t.Fatalf("keys before %v, after %v: want one new newest key", before, after)
	}
	decodeUpstream(t, b.get(gateURL+"/after-rotation"))
}

func TestConfiguredKeySignsAndStoredKeysStillDecode(t *testing.T) {
	up := newUpstream(t)
	dbPath := storePath(t)
	usersPath := gatetest.WriteUsersFile(t)
	site := fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
	}
	reverse_proxy %s
}
`, httpPort, usersPath, up.hostPort())
	startGateway(t, globalOptions(dbPath, "")+site)
	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/")

	// The operator now configures a key of their own.
	configured := session.NewCookieKey(time.Now())
	enc := base64.StdEncoding.EncodeToString
	startGateway(t, globalOptions(dbPath, "cookie_key "+enc(configured.HashKey)+" "+enc(configured.BlockKey))+site)

	// The session made with the generated key still works ...
	decodeUpstream(t, b.get(gateURL+"/old-session"))
	// ... and a new login is signed with the configured key.
	b2 := newBrowser(t)
	b2.login("bob", gatetest.Users["bob"].Password, "/")
	onlyConfigured, _ := session.NewCookieCodec([]store.CookieKey{configured}, nil)
	var s session.Session
	if err := onlyConfigured.Decode("tg_session", b2.sessionCookie(), &s); err != nil || s.User != "bob" {
		t.Fatalf("new session is not signed with the configured key: %v", err)
	}
}

func TestHTTPSSessionCookieIsSecureAndHostPrefixed(t *testing.T) {
	up := newUpstream(t)
	dbPath := storePath(t)
	startGateway(t, globalOptions(dbPath, "")+fmt.Sprintf(`
https://localhost:%d {
	tls %s
	trusted_endpoints {
		login users_file %s
	}
	reverse_proxy %s
}
`, httpsPort, selfSignedCert(t), gatetest.WriteUsersFile(t), up.hostPort()))
	b := newBrowser(t)
	// caddytest's transport dials loopback and skips verification of the
	// test certificate.
	b.client.Transport = caddytest.CreateTestingTransport()
	base := fmt.Sprintf("https://localhost:%d", httpsPort)

	r := b.get(base + "/.trustgate/login")
	if r.status != http.StatusOK {
		t.Fatalf("login page over HTTPS: %d", r.status)
	}
	r = b.postForm(base+"/.trustgate/login", map[string][]string{
		"csrf": {formCSRF(t, r.body)}, "username": {"alice"}, "password": {gatetest.Users["alice"].Password},
	})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login over HTTPS: %d %s", r.status, r.body)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "__Host-tg_session" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly || session.Path != "/" || session.Domain != "" {
		t.Fatalf("HTTPS session cookie: %+v", session)
	}
	v := decodeUpstream(t, b.get(base+"/"))
	if got := v.Headers["X-Trustgate-User"]; len(got) != 1 || got[0] != "alice" {
		t.Fatalf("user header over HTTPS: %q", got)
	}
	// The plain-HTTP name is not accepted on HTTPS.
	plain := newBrowser(t)
	plain.client.Transport = b.client.Transport
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.AddCookie(&http.Cookie{Name: "tg_session", Value: session.Value})
	if r := plain.do(req); r.status != http.StatusFound {
		t.Fatalf("session under the non-prefixed name over HTTPS: %d", r.status)
	}
}

// selfSignedCert writes a certificate and key for localhost and returns
// their paths, space-separated, for a tls directive.
func selfSignedCert(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "privkey.pem") // caddytest rewrites *.crt and *.key paths
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath + " " + keyPath
}
