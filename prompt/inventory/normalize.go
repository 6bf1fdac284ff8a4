package inventory

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustgate/trustgate/prompt/store"
)

// Limits on the text fields of an entry, in characters.
const (
	maxHardwareSerial = 128
	maxText           = 256
	maxSANURI         = 2048
	// maxSerialDigits bounds a certificate serial number: RFC 5280 allows
	// 20 octets; twice that leaves room for the non-conforming ones that
	// exist in the wild.
	maxSerialDigits = 80
)

// Platforms lists the platforms an entry may name, in their normal form.
var platforms = []string{"windows", "macos", "linux", "ios", "android"}

// Normalize returns e with every field in its normal form, or an error
// saying what is wrong with each field that has none. The normal forms
// are:
//
//   - fingerprint: 64 lowercase hex digits; accepted with any case and
//     with ':' between the digits (as "openssl x509 -fingerprint" prints
//     it);
//   - serial: lowercase hex without leading zeros ("0" for zero) or
//     separators; accepted with any case and with ':' between the digits.
//     Only hex is accepted, never decimal, because device-management
//     consoles and openssl show serials in hex and a string of decimal
//     digits is also valid hex: guessing would match the wrong device;
//   - san_uri: an absolute URI (with a scheme) of printable ASCII without
//     spaces, as a certificate can carry it, in the form Go's url package
//     writes it back (the scheme in lower case);
//   - hardware_serial: trimmed, printable, at most 128 characters, and
//     compared exactly (case matters);
//   - platform: windows, macos, linux, ios or android, in any case;
//   - owner and label: trimmed, printable, at most 256 characters each.
//
// Every field is trimmed of surrounding white space first. An entry needs
// a platform and at least one identifier (fingerprint, serial, san_uri or
// hardware_serial).
func Normalize(e store.InventoryEntry) (store.InventoryEntry, error) {
	n, problems := normalizeEntry(e)
	if len(problems) > 0 {
		return store.InventoryEntry{}, problems
	}
	return n, nil
}

// normalizeEntry normalises each field of e on its own: a field that
// fails is left empty in the result and its error is among the problems,
// so that the identifiers which are good can still be checked for
// duplicates.
func normalizeEntry(e store.InventoryEntry) (store.InventoryEntry, fieldErrors) {
	var n store.InventoryEntry
	var problems fieldErrors
	field := func(name, value string, normalize func(string) (string, error)) string {
		value = strings.TrimSpace(value)
		if value == "" {
			return ""
		}
		v, err := normalize(value)
		if err != nil {
			problems = append(problems, &FieldError{Field: name, Err: err})
		}
		return v
	}
	n.Fingerprint = field("fingerprint", e.Fingerprint, normalizeFingerprint)
	n.Serial = field("serial", e.Serial, normalizeSerial)
	n.SANURI = field("san_uri", e.SANURI, normalizeSANURI)
	n.HardwareSerial = field("hardware_serial", e.HardwareSerial, textOf(maxHardwareSerial))
	n.Platform = field("platform", e.Platform, normalizePlatform)
	n.Owner = field("owner", e.Owner, textOf(maxText))
	n.Label = field("label", e.Label, textOf(maxText))
	if strings.TrimSpace(e.Platform) == "" {
		problems = append(problems, &FieldError{Field: "platform", Err: errors.New("missing")})
	}
	if !hasIdentifier(e) {
		problems = append(problems, errNoIdentifier)
	}
	return n, problems
}

var errNoIdentifier = errors.New("no identifier (fingerprint, serial, san_uri or hardware_serial)")

func hasIdentifier(e store.InventoryEntry) bool {
	for _, v := range []string{e.Fingerprint, e.Serial, e.SANURI, e.HardwareSerial} {
		if strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

// normalizeFingerprint brings a SHA-256 fingerprint to 64 lowercase hex
// digits.
func normalizeFingerprint(s string) (string, error) {
	digits, err := hexDigits(s)
	if err != nil {
		return "", err
	}
	if len(digits) != 64 {
		return "", fmt.Errorf("%d hex digits, want 64 (a SHA-256 of the certificate)", len(digits))
	}
	return digits, nil
}

// normalizeSerial brings a certificate serial number to lowercase hex
// without leading zeros.
func normalizeSerial(s string) (string, error) {
	digits, err := hexDigits(s)
	if err != nil {
		return "", err
	}
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		return "0", nil
	}
	if len(digits) > maxSerialDigits {
		return "", fmt.Errorf("%d hex digits, want at most %d", len(digits), maxSerialDigits)
	}
	return digits, nil
}

// hexDigits returns the hex digits of s in lower case, with the ':'
// separators removed; a separator must stand between two digits. It
// allocates only when s is not already in that form.
func hexDigits(s string) (string, error) {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		case 'A' <= c && c <= 'F':
			clean = false
		case c == ':':
			if i == 0 || i == len(s)-1 || s[i+1] == ':' {
				return "", errors.New("':' must stand between hex digits")
			}
			clean = false
		default:
			return "", fmt.Errorf("%s is not a hex digit", quoteRune(s[i:]))
		}
	}
	if clean {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':':
		case 'A' <= c && c <= 'F':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// normalizeSANURI checks that s is an absolute URI a certificate can
// carry and returns it as Go's url package writes it, which is also how
// Identify reads a certificate's URIs.
func normalizeSANURI(s string) (string, error) {
	if len(s) > maxSANURI {
		return "", fmt.Errorf("%d characters, want at most %d", len(s), maxSANURI)
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return "", fmt.Errorf("%s: a URI in a certificate is printable ASCII without spaces", quoteRune(s[i:]))
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("not a URI: %v", unwrapURLError(err))
	}
	if !u.IsAbs() {
		return "", errors.New("not an absolute URI (it needs a scheme, as in urn:... or device://...)")
	}
	n := u.String()
	// A URI whose written form reads back differently has no one normal
	// form, so it could never be matched reliably.
	if again, err := url.Parse(n); err != nil || again.String() != n {
		return "", errors.New("not a URI in a stable form")
	}
	return n, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func normalizePlatform(s string) (string, error) {
	p := strings.ToLower(s)
	for _, known := range platforms {
		if p == known {
			return known, nil
		}
	}
	return "", fmt.Errorf("%q is not one of %s", truncate(s), strings.Join(platforms, ", "))
}

// textOf returns the check of a free-text field of at most max
// characters.
func textOf(max int) func(string) (string, error) {
	return func(s string) (string, error) {
		if !utf8.ValidString(s) {
			return "", errors.New("not valid UTF-8")
		}
		n := 0
		for _, r := range s {
			if !unicode.IsPrint(r) {
				return "", fmt.Errorf("%U is not a printable character", r)
			}
			n++
		}
		if n > max {
			return "", fmt.Errorf("%d characters, want at most %d", n, max)
		}
		return s, nil
	}
}

// quoteRune quotes the first character of s for an error message.
func quoteRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return fmt.Sprintf("%q", r)
}

// truncate shortens a value echoed in an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	for i := max; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
