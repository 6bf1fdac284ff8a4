package inventory

import (
	"errors"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

const (
	fpLower = "263a4dbe41488fb87214b0032339dbb9f0c8da14c16dfcf13084bf3c2552eca5"
	fpColon = "26:3A:4D:BE:41:48:8F:B8:72:14:B0:03:23:39:DB:B9:F0:C8:DA:14:C1:6D:FC:F1:30:84:BF:3C:25:52:EC:A5"
)

func TestNormalizeFieldForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		normalize func(string) (string, error)
		in, want  string
	}{
		{"fingerprint lower", normalizeFingerprint, fpLower, fpLower},
		{"fingerprint upper with colons", normalizeFingerprint, fpColon, fpLower},
		{"fingerprint mixed case", normalizeFingerprint, strings.ToUpper(fpLower[:10]) + fpLower[10:], fpLower},
		{"serial lower", normalizeSerial, "a1b2", "a1b2"},
		{"serial upper with colons and leading zeros", normalizeSerial, "00:0A:1B:2C", "a1b2c"},
		{"serial zero", normalizeSerial, "00:00", "0"},
		{"serial decimal digits read as hex", normalizeSerial, "1234", "1234"},
		{"san_uri urn", normalizeSANURI, "urn:device:7f3c", "urn:device:7f3c"},
		{"san_uri scheme folded", normalizeSANURI, "Device://Host/ID-1", "device://Host/ID-1"},
		{"san_uri spiffe", normalizeSANURI, "spiffe://corp.example/device/42", "spiffe://corp.example/device/42"},
		{"hardware serial kept as is", textOf(maxHardwareSerial), "C02XL0ABJG5J", "C02XL0ABJG5J"},
		{"platform folded", normalizePlatform, "macOS", "macos"},
		{"platform windows", normalizePlatform, "WINDOWS", "windows"},
		{"owner unicode", textOf(maxText), "Zoë O'Brien", "Zoë O'Brien"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.normalize(tt.in)
			if err != nil || got != tt.want {
				t.Fatalf("normalize(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			again, err := tt.normalize(got)
			if err != nil || again != got {
				t.Fatalf("normal form %q is not stable: %q, %v", got, again, err)
			}
		})
	}
}

func TestNormalizeFieldErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		normalize func(string) (string, error)
		in, want  string // want: a part of the error
	}{
		{"fingerprint short", normalizeFingerprint, fpLower[:63], "63 hex digits, want 64"},
		{"fingerprint long", normalizeFingerprint, fpLower + "0", "65 hex digits"},
		{"fingerprint sha1", normalizeFingerprint, fpLower[:40], "40 hex digits"},
		{"fingerprint non hex", normalizeFingerprint, "g" + fpLower[1:], `'g' is not a hex digit`},
		{"fingerprint leading colon", normalizeFingerprint, ":" + fpLower, "between hex digits"},
		{"fingerprint double colon", normalizeFingerprint, "3f::7a", "between hex digits"},
		{"fingerprint trailing colon", normalizeFingerprint, fpLower + ":", "between hex digits"},
		{"fingerprint space separated", normalizeFingerprint, "3f 7a", `' ' is not a hex digit`},
		{"serial non hex", normalizeSerial, "0x1f", `'x' is not a hex digit`},
		{"serial negative", normalizeSerial, "-1f", `'-' is not a hex digit`},
		{"serial too long", normalizeSerial, strings.Repeat("f", 81), "81 hex digits, want at most 80"},
		{"san_uri relative", normalizeSANURI, "device/42", "not an absolute URI"},
		{"san_uri no scheme", normalizeSANURI, "//host/42", "not an absolute URI"},
		{"san_uri space", normalizeSANURI, "urn:device 42", "printable ASCII without spaces"},
		{"san_uri non ascii", normalizeSANURI, "urn:gerät:1", "printable ASCII"},
		{"san_uri bad escape", normalizeSANURI, "device://h/%zz", "not a URI"},
		{"san_uri too long", normalizeSANURI, "urn:" + strings.Repeat("a", 2045), "2049 characters"},
		{"hardware serial control", textOf(maxHardwareSerial), "AB\x00CD", "U+0000 is not a printable"},
		{"hardware serial tab", textOf(maxHardwareSerial), "AB\tCD", "U+0009"},
		{"hardware serial too long", textOf(maxHardwareSerial), strings.Repeat("A", 129), "129 characters, want at most 128"},
		{"platform unknown", normalizePlatform, "chromeos", `"chromeos" is not one of windows, macos, linux, ios, android`},
		{"owner too long", textOf(maxText), strings.Repeat("é", 257), "257 characters, want at most 256"},
		{"label invalid utf-8", textOf(maxText), "a\xffb", "not valid UTF-8"},
		{"label bidi override", textOf(maxText), "evil\u202etxt", "U+202E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.normalize(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("normalize(%q) = %q, %v; want an error with %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeEntry(t *testing.T) {
	t.Parallel()
	got, err := Normalize(store.InventoryEntry{
		Fingerprint: " " + fpColon + " ", Serial: "0A", SANURI: "URN:device:1",
		HardwareSerial: " SN1 ", Platform: " Linux", Owner: " alice ", Label: "build box ",
	})
	want := store.InventoryEntry{
		Fingerprint: fpLower, Serial: "a", SANURI: "urn:device:1",
		HardwareSerial: "SN1", Platform: "linux", Owner: "alice", Label: "build box",
	}
	if err != nil || got != want {
		t.Fatalf("Normalize = %+v, %v; want %+v", got, err, want)
	}
}

func TestNormalizeEntryNamesEveryProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		entry store.InventoryEntry
		want  []string
	}{
		{"no identifier", store.InventoryEntry{Platform: "linux", Label: "x"}, []string{"no identifier"}},
		{"no platform", store.InventoryEntry{Serial: "1"}, []string{"platform: missing"}},
		{"blank identifiers count as none", store.InventoryEntry{Serial: "  ", Platform: "ios"}, []string{"no identifier"}},
		{"several fields", store.InventoryEntry{Fingerprint: "ab", Serial: "xyz", Platform: "beos"},
			[]string{"fingerprint: 2 hex digits", "serial: 'x' is not a hex digit", "platform: \"beos\""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Normalize(tt.entry)
			if err == nil {
				t.Fatalf("Normalize(%+v) accepted it", tt.entry)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var fe *FieldError
			if len(tt.want) > 1 && !errors.As(err, &fe) {
				t.Errorf("error %v holds no FieldError", err)
			}
		})
	}
}
