package inventory

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

// fuzzParser keeps fuzzed uploads small enough to run fast.
var fuzzParser = Parser{MaxRows: 1000, MaxBytes: 1 << 20}

// FuzzParseCSV feeds arbitrary bytes to the CSV parser: it never panics,
// and whatever it accepts is in normal form, without duplicates, and
// reads back the same.
func FuzzParseCSV(f *testing.F) {
	for _, seed := range []string{
		csvUpload(3),
		"\ufeffSerial,PLATFORM\r\n0a:0B,Linux\r\n\r\n,\r\n",
		"fingerprint,platform\n" + fpColon + ",windows\n",
		"san_uri,platform,owner\n\"urn:a\",ios,\"x\"\"y\"\n",
		"serial,platform\nzz,linux\n1,beos\n1,linux\n01,linux\n",
		"serial,platform\n\"1,linux\n",
		"hardware_serial,platform,label\n SN ,macos,\"a\nb\"\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, upload []byte) {
		entries, err := fuzzParser.Parse(bytes.NewReader(upload), FormatCSV)
		checkParse(t, upload, entries, err)
	})
}

// FuzzParseJSON is FuzzParseCSV for JSON uploads.
func FuzzParseJSON(f *testing.F) {
	for _, seed := range []string{
		jsonLinesUpload(3),
		`[{"fingerprint":"` + fpColon + `","platform":"Windows"},{"serial":"0A","platform":"linux","owner":null}]`,
		`{"SAN_URI":"Device://X/1","platform":"ios"}` + "\n" + `{"hardware_serial":" SN ","platform":"macos"}`,
		`[{"serial":1},{"serial":"1","serial":"2"},{"x":{"y":[1,2]}},"s",[]]`,
		`[{"serial":"1","platform":"linux"}]]`,
		"{\"serial\":\"1\",\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, upload []byte) {
		entries, err := fuzzParser.Parse(bytes.NewReader(upload), FormatJSON)
		checkParse(t, upload, entries, err)
	})
}

// checkParse holds what Parse returned to its promises.
func checkParse(t *testing.T, upload []byte, entries []store.InventoryEntry, err error) {
	t.Helper()
	if err != nil {
		if entries != nil {
			t.Fatalf("entries beside an error: %v", err)
		}
		var pe *ParseError
		if errors.As(err, &pe) {
			lines := bytes.Count(upload, []byte("\n")) + 1
			if pe.Total < len(pe.Rows) || len(pe.Rows) > MaxReported || len(pe.Rows) == 0 {
				t.Fatalf("ParseError of %d problems lists %d", pe.Total, len(pe.Rows))
			}
			for _, r := range pe.Rows {
				if r.Line < 1 || r.Line > lines {
					t.Fatalf("problem on line %d of %d: %v", r.Line, lines, r)
				}
			}
		}
		return
	}
	seen := make(map[[2]string]bool)
	for _, e := range entries {
		n, err := Normalize(e)
		if err != nil || n != e {
			t.Fatalf("accepted entry %+v is not in normal form: %+v, %v", e, n, err)
		}
		for i := range fieldHardwareSerial + 1 {
			if v := *fieldOf(&e, i); v != "" {
				if seen[[2]string{fieldNames[i], v}] {
					t.Fatalf("duplicate %s %q accepted", fieldNames[i], v)
				}
				seen[[2]string{fieldNames[i], v}] = true
			}
		}
	}
	if len(entries) == 0 {
		return
	}
	written, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	again, err := fuzzParser.Parse(bytes.NewReader(written), FormatJSON)
	if err != nil || !reflect.DeepEqual(again, entries) {
		t.Fatalf("accepted entries read back differently: %v", err)
	}
}
