package inventory

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"strings"
)

// Identifiers are what a device certificate says about its device, in
// the normal forms of Normalize, so that they compare equal to an
// inventory's entries as strings.
type Identifiers struct {
	// Fingerprint is the SHA-256 of the certificate's DER bytes.
	Fingerprint string
	// Serial is the certificate's serial number; empty when it is
	// negative, which no inventory entry can name.
	Serial string
	// SANURIs are the URIs among the certificate's subject alternative
	// names (those without a normal form left out).
	SANURIs []string
	// HardwareSerial is the serialNumber attribute of the certificate's
	// subject; empty when the subject has none or it is not a text an
	// inventory entry can hold.
	HardwareSerial string
}

// Identify reads the identifiers of cert. Only a certificate that the TLS
// handshake verified says anything about a device: give it the leaf of a
// verified chain.
func Identify(cert *x509.Certificate) Identifiers {
	var fp [64]byte
	return Identifiers{
		Fingerprint:    string(fingerprintOf(cert, &fp)),
		Serial:         serialOf(cert),
		SANURIs:        sanURIsOf(cert),
		HardwareSerial: hardwareSerialOf(cert),
	}
}

// fingerprintOf writes the hex SHA-256 of cert into buf and returns it.
func fingerprintOf(cert *x509.Certificate, buf *[64]byte) []byte {
	sum := sha256.Sum256(cert.Raw)
	hex.Encode(buf[:], sum[:])
	return buf[:]
}

func serialOf(cert *x509.Certificate) string {
	if cert.SerialNumber == nil || cert.SerialNumber.Sign() < 0 {
		return ""
	}
	return cert.SerialNumber.Text(16)
}

func sanURIsOf(cert *x509.Certificate) []string {
	var uris []string
	for _, u := range cert.URIs {
		if n, err := normalizeSANURI(u.String()); err == nil {
			uris = append(uris, n)
		}
	}
	return uris
}

func hardwareSerialOf(cert *x509.Certificate) string {
	s, err := textOf(maxHardwareSerial)(strings.TrimSpace(cert.Subject.SerialNumber))
	if err != nil {
		return ""
	}
	return s
}
