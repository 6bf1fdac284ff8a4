package inventory

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"net/url"
	"reflect"
	"testing"
	"time"
)

// testCA issues device certificates the way a device-management system
// does, for tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var testNow = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test device CA"},
		NotBefore:             testNow.Add(-time.Hour),
		NotAfter:              testNow.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a client certificate with the given serial number,
// subject serialNumber and SAN URIs, as a TLS handshake hands it over:
// the leaf of a chain verified against the CA.
func (ca *testCA) issue(t testing.TB, serial *big.Int, hardwareSerial string, uris ...string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "device", SerialNumber: hardwareSerial},
		NotBefore:    testNow.Add(-time.Hour),
		NotAfter:     testNow.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, s := range uris {
		u, err := url.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots: ca.pool, CurrentTime: testNow, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err != nil {
		t.Fatal(err)
	}
	return chains[0][0]
}

func TestIdentifyReadsTheCertificatesIdentifiersInNormalForm(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	serial := new(big.Int).SetBytes([]byte{0x00, 0x0a, 0xbc, 0xde, 0xf0}) // 0x0abcdef0
	cert := ca.issue(t, serial, " C02XL0ABJG5J ", "urn:device:42", "Device://mdm.example/AbC")
	sum := sha256.Sum256(cert.Raw)
	want := Identifiers{
		Fingerprint:    hex.EncodeToString(sum[:]),
		Serial:         "abcdef0",
		SANURIs:        []string{"urn:device:42", "device://mdm.example/AbC"},
		HardwareSerial: "C02XL0ABJG5J",
	}
	got := Identify(cert)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Identify = %+v\nwant %+v", got, want)
	}
	// Each is already in the normal form of an upload.
	for _, f := range []struct {
		value     string
		normalize func(string) (string, error)
	}{
		{got.Fingerprint, normalizeFingerprint}, {got.Serial, normalizeSerial},
		{got.SANURIs[0], normalizeSANURI}, {got.SANURIs[1], normalizeSANURI},
		{got.HardwareSerial, textOf(maxHardwareSerial)},
	} {
		if n, err := f.normalize(f.value); err != nil || n != f.value {
			t.Errorf("%q normalises to %q, %v", f.value, n, err)
		}
	}
}

func TestIdentifyWithoutOptionalIdentifiers(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	got := Identify(ca.issue(t, big.NewInt(0x10), ""))
	if got.Serial != "10" || got.SANURIs != nil || got.HardwareSerial != "" || len(got.Fingerprint) != 64 {
		t.Fatalf("Identify = %+v", got)
	}
	// A subject serialNumber that no entry could hold names nothing.
	long := make([]byte, maxHardwareSerial+1)
	for i := range long {
		long[i] = 'A'
	}
	if got := Identify(ca.issue(t, big.NewInt(1), string(long))); got.HardwareSerial != "" {
		t.Errorf("a %d-character serialNumber read as %q", len(long), got.HardwareSerial)
	}
}
