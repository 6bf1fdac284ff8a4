package inventory

import (
	"math/big"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// BenchmarkParseCSV50k parses an export of 50,000 devices with every
// column, identifiers written as consoles show them (upper case, leading
// zeros), so each one is normalised.
func BenchmarkParseCSV50k(b *testing.B) {
	upload := csvUpload(50_000)
	b.SetBytes(int64(len(upload)))
	b.ReportAllocs()
	for b.Loop() {
		entries, err := Parse(strings.NewReader(upload), FormatCSV)
		if err != nil || len(entries) != 50_000 {
			b.Fatalf("Parse = %d entries, %v", len(entries), err)
		}
	}
}

// BenchmarkParseJSON50k is BenchmarkParseCSV50k for JSON lines.
func BenchmarkParseJSON50k(b *testing.B) {
	upload := jsonLinesUpload(50_000)
	b.SetBytes(int64(len(upload)))
	b.ReportAllocs()
	for b.Loop() {
		entries, err := Parse(strings.NewReader(upload), FormatJSON)
		if err != nil || len(entries) != 50_000 {
			b.Fatalf("Parse = %d entries, %v", len(entries), err)
		}
	}
}

// BenchmarkLookupFingerprint is the per-request cost of matching a
// certificate in an index of 50,000 entries.
func BenchmarkLookupFingerprint(b *testing.B) {
	entries, err := Parse(strings.NewReader(csvUpload(50_000)), FormatCSV)
	if err != nil {
		b.Fatal(err)
	}
	cert := newTestCA(b).issue(b, big.NewInt(42), "")
	entries[49_999].Fingerprint = Identify(cert).Fingerprint
	x := NewIndex(store.Inventory{ID: "inv"}, entries)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := x.Lookup(cert, policy.MatchFingerprint); !ok {
			b.Fatal("no match")
		}
	}
}
