package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

func TestParseJSONArrayAndLinesReadAlike(t *testing.T) {
	t.Parallel()
	array := `[
  {"fingerprint": "` + fpColon + `", "Platform": "Windows", "label": "desk"},
  {"serial": "0A", "san_uri": null, "platform": "linux", "owner": "alice"}
]
`
	lines := `{"fingerprint": "` + fpColon + `", "Platform": "Windows", "label": "desk"}` + "\n\n" +
		`{"serial": "0A", "san_uri": null, "platform": "linux", "owner": "alice"}`
	want := []store.InventoryEntry{
		{Fingerprint: fpLower, Platform: "windows", Label: "desk"},
		{Serial: "a", Platform: "linux", Owner: "alice"},
	}
	for name, upload := range map[string]string{"array": array, "lines": lines, "array with BOM": "\ufeff" + array} {
		got, err := Parse(strings.NewReader(upload), FormatJSON)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Parse = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

func TestParseJSONReportsEveryBadRowWithItsLine(t *testing.T) {
	t.Parallel()
	upload := strings.Join([]string{
		`[`,                                      // 1
		`{"serial": "1", "platform": "linux"},`,  // 2 good
		`{"serial": "zz", "platform": "linux"},`, // 3 bad serial
		`{"serial": "2", "platform": "linux", "colour": "red"},`, // 4 unknown key
		`{"serial": "3", "serial": "4", "platform": "ios"},`,     // 5 key twice
		`{"serial": 5, "platform": "ios"},`,                      // 6 a number
		`{`,                                                      // 7 an object over lines
		`  "serial": "6",`,                                       //
		`  "platform": {"name": ["ios"]}`,                        // an object where a string goes
		`},`,                                                     //
		`"not an object",`,                                       // 11
		`{"serial": "01", "platform": "macos"},`,                 // 12 duplicate of line 2
		`{"label": "no id", "platform": "macos"}`,                // 13
		`]`,
	}, "\n")
	entries, err := Parse(strings.NewReader(upload), FormatJSON)
	if entries != nil {
		t.Errorf("entries %v from a bad upload", entries)
	}
	checkProblems(t, err,
		wantRow{3, "serial: 'z' is not a hex digit"},
		wantRow{4, `unknown key "colour"`},
		wantRow{5, "key serial is given twice"},
		wantRow{6, "serial: not a string"},
		wantRow{7, "platform: not a string"},
		wantRow{11, "not an object"},
		wantRow{12, "serial 1 is also on line 2"},
		wantRow{13, "no identifier"},
	)
}

func TestParseJSONStopsAtBrokenJSONWithItsLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, upload string
		want         []wantRow
	}{
		{"syntax error", "[\n{\"serial\": \"1\", \"platform\": \"linux\"},\n{\"serial\": x}\n]",
			[]wantRow{{3, "not JSON: invalid character 'x'"}}},
		{"bad rows before a syntax error are kept", "{\"serial\":\"q\",\"platform\":\"linux\"}\n{,}\n",
			[]wantRow{{1, "serial: 'q'"}, {2, "not JSON"}}},
		{"cut in an object", "{\"serial\": \"1\", \"platform\": \"linux\"}\n{\"serial\": \"2\",\n", []wantRow{{2, "ends in the middle"}}},
		{"cut in an array", "[\n{\"serial\": \"1\", \"platform\": \"linux\"}\n", []wantRow{{2, "ends in the middle"}}},
		{"missing comma", "[{\"serial\": \"1\", \"platform\": \"linux\"}\n {\"serial\": \"2\"}]", []wantRow{{2, "not JSON"}}},
		{"after the array", "[{\"serial\": \"1\", \"platform\": \"linux\"}]\n[]", []wantRow{{2, "more JSON after the array"}}},
		{"not objects", "\n\n42\n", []wantRow{{3, "want an array of objects or one object per line"}}},
		{"array in lines", "{\"serial\": \"1\", \"platform\": \"linux\"}\n[]\n", []wantRow{{2, "want one object per line"}}},
		{"empty", " \n", []wantRow{{1, "the upload is empty"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entries, err := Parse(strings.NewReader(tt.upload), FormatJSON)
			if entries != nil {
				t.Errorf("entries %v", entries)
			}
			checkProblems(t, err, tt.want...)
		})
	}
}

func TestParseJSONRoundTrip(t *testing.T) {
	t.Parallel()
	entries, err := Parse(strings.NewReader(jsonLinesUpload(500)), FormatJSON)
	if err != nil || len(entries) != 500 {
		t.Fatalf("Parse = %d entries, %v", len(entries), err)
	}
	// store.InventoryEntry's own JSON is an upload.
	written, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(strings.NewReader(string(written)), FormatJSON)
	if err != nil || !reflect.DeepEqual(again, entries) {
		t.Fatalf("the entries written back read differently: %v", err)
	}
	fromCSV, err := Parse(strings.NewReader(csvUpload(500)), FormatCSV)
	if err != nil || !reflect.DeepEqual(fromCSV, entries) {
		t.Fatalf("the same rows as CSV read differently: %v", err)
	}
}

// jsonLinesUpload returns the rows of csvUpload(n) as JSON lines.
func jsonLinesUpload(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"fingerprint":"%064X","serial":"0%X","san_uri":"urn:device:%d","hardware_serial":"SN%06d","platform":"%s","owner":"user%d@example.com","label":"host-%d"}`+"\n",
			i+1, 1000+i, i, i, platforms[i%len(platforms)], i, i)
	}
	return b.String()
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Format{
		"csv": FormatCSV, "CSV": FormatCSV, "text/csv; charset=utf-8": FormatCSV,
		"json": FormatJSON, "jsonl": FormatJSON, "application/json": FormatJSON, "application/x-ndjson": FormatJSON,
	} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "xml", "text/plain", "application/json; =bad"} {
		if got, err := ParseFormat(in); err == nil {
			t.Errorf("ParseFormat(%q) = %q, want an error", in, got)
		}
	}
	if _, err := Parse(strings.NewReader("serial,platform\n1,linux\n"), Format("xml")); err == nil {
		t.Error("Parse of an unknown format succeeded")
	}
}

func TestParseJSONBoundsTheProblemsOfOneRow(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"serial": "1", "platform": "linux"`)
	for range 100_000 {
		b.WriteString(`, "x": 1`)
	}
	b.WriteString("}\n")
	_, err := Parse(strings.NewReader(b.String()), FormatJSON)
	pe := checkProblems(t, err, wantRow{1, `unknown key "x"`})
	var problems fieldErrors
	if !errors.As(pe.Rows[0].Err, &problems) || len(problems) != maxRowProblems+1 || problems[maxRowProblems] != errMoreProblems {
		t.Fatalf("one row's problems: %v", pe.Rows[0].Err)
	}
}
