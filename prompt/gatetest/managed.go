package gatetest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// CA issues device certificates as a device-management system does, for
// tests of managed devices. It is safe for concurrent use, as parallel
// subtests sharing one CA need.
type CA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	serial atomic.Int64 // the last serial number issued
}

// NewCA makes a certificate authority named name, valid around now.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
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
	ca := &CA{cert: cert, key: key}
	ca.serial.Store(1)
	return ca
}

// PEM returns the CA's certificate in PEM, as a site's TLS trust pool
// file holds it.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// Pool returns a pool holding the CA alone.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return pool
}

// Issue returns a client certificate for a device named host, with its
// key, as a browser presents it.
func (ca *CA) Issue(t testing.TB, host string) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial.Add(1)),
		Subject:      pkix.Name{CommonName: host},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// ManagedTLS is the TLS configuration of a site that asks browsers for a
// client certificate and verifies any it gets against trusted, as Caddy's
// client_auth mode verify_if_given does.
func ManagedTLS(trusted *x509.CertPool) *tls.Config {
	return &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: trusted}
}

// Fingerprint returns the inventory fingerprint of cert: the hex SHA-256
// of its leaf.
func Fingerprint(cert *tls.Certificate) string {
	sum := sha256.Sum256(cert.Certificate[0])
	return hex.EncodeToString(sum[:])
}

// ActivateInventory stores a new inventory id of entries, activates it
// and reloads the gate's active inventory from the store, as the runtime
// does on the store's event.
func (gw *Gateway) ActivateInventory(t testing.TB, id string, entries ...store.InventoryEntry) {
	t.Helper()
	ctx := t.Context()
	if err := gw.Store.CreateInventory(ctx, store.Inventory{ID: id, Source: "test", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if len(entries) > 0 {
		if err := gw.Store.AddInventoryEntries(ctx, id, entries); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Store.ActivateInventory(ctx, id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if changed, err := gw.Inventory.Reload(ctx, gw.Store); err != nil || !changed {
		t.Fatalf("reloading the inventory: changed %v, %v", changed, err)
	}
}
