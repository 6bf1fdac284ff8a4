package inventory

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// consoleFingerprint writes cert's fingerprint as consoles and openssl
// show it: upper case, ':' between bytes.
func consoleFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

func TestIndexLooksUpEachMatchKind(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t)
	byFingerprint := ca.issue(t, big.NewInt(0x1001), "HW-A")
	bySerial := ca.issue(t, big.NewInt(0x0a0b0c), "HW-B")
	bySAN := ca.issue(t, big.NewInt(0x1003), "", "urn:other:1", "urn:device:c")
	byHardware := ca.issue(t, big.NewInt(0x1004), "HW-D")
	unlisted := ca.issue(t, big.NewInt(0x1005), "HW-E", "urn:device:e")
	upload := "label,platform,fingerprint,serial,san_uri,hardware_serial\n" +
		"a,windows," + consoleFingerprint(byFingerprint) + ",,,\n" +
		"b,macos,,00:0A:0B:0C,,\n" +
		"c,linux,,,URN:device:c,\n" +
		"d,windows,,,,HW-D\n"
	entries, err := Parse(strings.NewReader(upload), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	x := NewIndex(store.Inventory{ID: "inv-1", State: store.InventoryActive, Entries: len(entries)}, entries)
	if x.Len() != 4 || x.Inventory().ID != "inv-1" {
		t.Fatalf("index of %d entries of %q", x.Len(), x.Inventory().ID)
	}
	tests := []struct {
		name  string
		cert  *x509.Certificate
		match policy.Match
		label string // "" when nothing may match
	}{
		{"fingerprint", byFingerprint, policy.MatchFingerprint, "a"},
		{"serial", bySerial, policy.MatchSerial, "b"},
		{"any san uri", bySAN, policy.MatchSANURI, "c"},
		{"hardware serial", byHardware, policy.MatchHardwareSerial, "d"},
		{"listed by fingerprint, matched by serial", byFingerprint, policy.MatchSerial, ""},
		{"listed by serial, matched by fingerprint", bySerial, policy.MatchFingerprint, ""},
		{"listed by hardware serial, matched by san uri", byHardware, policy.MatchSANURI, ""},
		{"unlisted by fingerprint", unlisted, policy.MatchFingerprint, ""},
		{"unlisted by serial", unlisted, policy.MatchSerial, ""},
		{"unlisted by san uri", unlisted, policy.MatchSANURI, ""},
		{"unlisted by hardware serial", unlisted, policy.MatchHardwareSerial, ""},
		{"unknown match", byFingerprint, policy.Match("subject"), ""},
		{"no certificate", nil, policy.MatchFingerprint, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, ok := x.Lookup(tt.cert, tt.match)
			if ok != (tt.label != "") || e.Label != tt.label {
				t.Fatalf("Lookup = %+v, %v; want label %q", e, ok, tt.label)
			}
		})
	}
}

func TestEmptyIndexMatchesNothing(t *testing.T) {
	t.Parallel()
	cert := newTestCA(t).issue(t, big.NewInt(7), "HW", "urn:device:7")
	for _, x := range []*Index{nil, NewIndex(store.Inventory{}, nil)} {
		for _, m := range []policy.Match{policy.MatchFingerprint, policy.MatchSerial, policy.MatchSANURI, policy.MatchHardwareSerial} {
			if e, ok := x.Lookup(cert, m); ok {
				t.Errorf("empty index matched %+v by %s", e, m)
			}
		}
		if x.Len() != 0 || x.Inventory() != (store.Inventory{}) {
			t.Errorf("empty index holds %d entries of %+v", x.Len(), x.Inventory())
		}
	}
}

func TestIndexNormalisesStoredIdentifiersAndKeepsTheFirstOfDuplicates(t *testing.T) {
	t.Parallel()
	cert := newTestCA(t).issue(t, big.NewInt(0xabc), "")
	x := NewIndex(store.Inventory{ID: "inv"}, []store.InventoryEntry{
		{Serial: "not hex", Platform: "linux", Label: "broken"},
		{Serial: "0ABC", Platform: "linux", Label: "first"},
		{Serial: "abc", Platform: "linux", Label: "second"},
	})
	if e, ok := x.Lookup(cert, policy.MatchSerial); !ok || e.Label != "first" {
		t.Fatalf("Lookup = %+v, %v; want the first entry", e, ok)
	}
}

// TestIndexFindsAnIdentifierInAnyWrittenForm: the what-if lookup takes an
// identifier as an admin types it and finds its entry only under its own
// kind.
func TestIndexFindsAnIdentifierInAnyWrittenForm(t *testing.T) {
	t.Parallel()
	fp := strings.Repeat("ab", 32)
	entries, err := Parse(strings.NewReader("label,platform,fingerprint,serial,san_uri\na,windows,"+fp+",,\nb,macos,,0a0b,\nc,linux,,,urn:device:c\n"), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	x := NewIndex(store.Inventory{ID: "inv-1"}, entries)
	for _, tt := range []struct {
		match      policy.Match
		identifier string
		label      string
	}{
		{policy.MatchFingerprint, strings.ToUpper(fp), "a"},
		{policy.MatchFingerprint, "AB:" + strings.Repeat("AB:", 30) + "AB", "a"},
		{policy.MatchSerial, "00:0A:0B", "b"},
		{policy.MatchSANURI, "URN:device:c", "c"},
		{policy.MatchSerial, fp, ""},
		{policy.MatchFingerprint, "0a0b", ""},
		{policy.MatchSANURI, "not a uri", ""},
		{policy.Match("subject"), "a", ""},
	} {
		if e, ok := x.Find(tt.match, tt.identifier); ok != (tt.label != "") || e.Label != tt.label {
			t.Errorf("Find(%s, %q) = %+v, %v; want label %q", tt.match, tt.identifier, e, ok, tt.label)
		}
	}
	if _, ok := (*Index)(nil).Find(policy.MatchFingerprint, fp); ok {
		t.Error("the empty index found an entry")
	}
}
