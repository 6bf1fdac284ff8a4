package inventory

import "fmt"

// Match is which identifier of a device certificate a site compares with
// the inventory (managed { match ... }).
type Match string

// The identifiers a site may match on.
const (
	// MatchFingerprint compares the SHA-256 of the whole certificate: the
	// strictest, but a renewed certificate needs a new inventory entry.
	MatchFingerprint Match = "fingerprint"
	// MatchSerial compares the certificate's serial number, unique per
	// issuing CA.
	MatchSerial Match = "serial"
	// MatchSANURI compares the URIs in the certificate's subject
	// alternative names with the entries' san_uri; any of them may match.
	MatchSANURI Match = "san_uri"
	// MatchHardwareSerial compares the serialNumber attribute of the
	// certificate's subject with the entries' hardware_serial.
	MatchHardwareSerial Match = "hardware_serial"
)

// ParseMatch returns the Match a Caddyfile word names.
func ParseMatch(word string) (Match, error) {
	switch m := Match(word); m {
	case MatchFingerprint, MatchSerial, MatchSANURI, MatchHardwareSerial:
		return m, nil
	}
	return "", fmt.Errorf("unknown match %q: want fingerprint, serial, san_uri or hardware_serial", truncate(word))
}
