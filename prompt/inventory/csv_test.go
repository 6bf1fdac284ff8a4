package inventory

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/store"
)

// wantRow is a problem a test expects: its line, and a part of its
// message.
type wantRow struct {
	line int
	says string
}

// checkProblems fails unless err is a *ParseError with exactly the
// problems want, in order.
func checkProblems(t *testing.T, err error, want ...wantRow) *ParseError {
	t.Helper()
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *ParseError", err, err)
	}
	if pe.Total != len(want) || len(pe.Rows) != len(want) {
		t.Fatalf("%d problems (%d listed), want %d: %v", pe.Total, len(pe.Rows), len(want), rowsOf(pe))
	}
	for i, w := range want {
		got := pe.Rows[i]
		if got.Line != w.line || !strings.Contains(got.Err.Error(), w.says) {
			t.Errorf("problem %d = %v; want line %d saying %q", i, got, w.line, w.says)
		}
	}
	return pe
}

func rowsOf(pe *ParseError) string {
	var b strings.Builder
	for _, r := range pe.Rows {
		fmt.Fprintf(&b, "\n\t%v", r)
	}
	return b.String()
}

func TestParseCSVReadsColumnsInAnyOrderAndCase(t *testing.T) {
	t.Parallel()
	upload := "\ufeffLabel, Platform ,SERIAL,fingerprint,San_URI,hardware_serial,owner\r\n" +
		"build box,Linux,0A:1B,," + "urn:device:1,,alice\r\n" +
		"\r\n" +
		",,,,,,\r\n" +
		`"desk, 4th floor",windows,,` + fpColon + `,,"SN-""7""",` + "\r\n"
	got, err := Parse(strings.NewReader(upload), FormatCSV)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InventoryEntry{
		{Label: "build box", Platform: "linux", Serial: "a1b", SANURI: "urn:device:1", Owner: "alice"},
		{Label: "desk, 4th floor", Platform: "windows", Fingerprint: fpLower, HardwareSerial: `SN-"7"`},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("entries:\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseCSVHeaderProblems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, upload string
		want         []string
	}{
		{"unknown columns are named", "fingerprnt,platform,serial,colour\n", []string{`unknown column "fingerprnt", "colour"`}},
		{"no platform", "serial,label\n", []string{"no platform column"}},
		{"no identifier", "platform,owner\n", []string{"no identifier column"}},
		{"column twice", "serial,platform,Serial\n", []string{"column serial is named twice"}},
		{"nameless column", "serial,platform,\n", []string{"column 3 has no name"}},
		{"empty upload", "", []string{"the upload is empty"}},
		{"only a byte order mark", "\ufeff", []string{"the upload is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			entries, err := Parse(strings.NewReader(tt.upload+"1,linux,x\n"), FormatCSV)
			if tt.upload == "" || tt.upload == "\ufeff" {
				entries, err = Parse(strings.NewReader(tt.upload), FormatCSV)
			}
			if entries != nil {
				t.Errorf("entries %v from a bad header", entries)
			}
			pe := checkProblems(t, err, wantRow{1, tt.want[0]})
			for _, w := range tt.want[1:] {
				if !strings.Contains(pe.Rows[0].Error(), w) {
					t.Errorf("%v does not say %q", pe.Rows[0], w)
				}
			}
		})
	}
}

func TestParseCSVReportsEveryBadRowWithItsLine(t *testing.T) {
	t.Parallel()
	upload := strings.Join([]string{
		"serial,platform,san_uri,owner", // 1
		"01,linux,,",                    // 2 good
		"zz,linux,,",                    // 3 bad serial
		"",                              // 4 blank
		"02,beos,,",                     // 5 bad platform
		"03,ios,not a uri,",             // 6 bad san_uri
		",android,,bob",                 // 7 no identifier
		"04,linux",                      // 8 too few fields
		`05,linux,"urn:x`,               // 9 a quoted field over two lines ...
		`:1",carol`,                     // 10 ... is one row, from line 9
		`06,linux,urn:y",`,              // 11 bare quote
		"1,macos,,",                     // 12 duplicate of line 2
		"07,,,",                         // 13 no platform
	}, "\n")
	entries, err := Parse(strings.NewReader(upload), FormatCSV)
	if entries != nil {
		t.Errorf("entries %v from a bad upload", entries)
	}
	checkProblems(t, err,
		wantRow{3, "serial: 'z' is not a hex digit"},
		wantRow{5, `platform: "beos" is not one of`},
		wantRow{6, "san_uri: ' ': a URI in a certificate is printable ASCII"},
		wantRow{7, "no identifier"},
		wantRow{8, "the header names 4 columns, this row has a different number of fields"},
		wantRow{9, `san_uri: '\n': a URI in a certificate is printable ASCII`},
		wantRow{11, `column 15: bare " in non-quoted-field`},
		wantRow{12, "serial 1 is also on line 2"},
		wantRow{13, "platform: missing"},
	)
}

func TestParseCSVReportsDuplicatesOfEachKindWithBothLines(t *testing.T) {
	t.Parallel()
	upload := "fingerprint,serial,san_uri,hardware_serial,platform\n" +
		fpLower + ",a,urn:d:1,HW1,linux\n" + // 2
		fpColon + ",b,urn:d:2,HW2,linux\n" + // 3: fingerprint of 2
		",00:0A,urn:d:3,HW3,linux\n" + // 4: serial of 2
		",c,URN:d:1,HW4,linux\n" + // 5: san_uri of 2
		",d,urn:d:5,HW1,linux\n" + // 6: hardware serial of 2
		",e,urn:d:6,hw1,linux\n" // 7: hardware serials compare with case
	_, err := Parse(strings.NewReader(upload), FormatCSV)
	pe := checkProblems(t, err,
		wantRow{3, "fingerprint " + fpLower + " is also on line 2"},
		wantRow{4, "serial a is also on line 2"},
		wantRow{5, "san_uri urn:d:1 is also on line 2"},
		wantRow{6, "hardware_serial HW1 is also on line 2"},
	)
	var dup *DuplicateError
	if !errors.As(pe.Rows[0], &dup) || dup.FirstLine != 2 || dup.Field != "fingerprint" {
		t.Errorf("first problem %v is not a DuplicateError of line 2", pe.Rows[0])
	}
}

func TestParseCSVListsAtMostMaxReportedProblemsButCountsAll(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("serial,platform\n")
	for i := range 250 {
		fmt.Fprintf(&b, "%x,nope\n", i+1)
	}
	_, err := Parse(strings.NewReader(b.String()), FormatCSV)
	var pe *ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v", err)
	}
	if pe.Total != 250 || len(pe.Rows) != MaxReported || pe.Rows[MaxReported-1].Line != MaxReported+1 {
		t.Fatalf("total %d, listed %d, last listed line %d", pe.Total, len(pe.Rows), pe.Rows[len(pe.Rows)-1].Line)
	}
	if !strings.HasPrefix(err.Error(), "250 bad rows; line 2: platform") {
		t.Errorf("message %q", err)
	}
}

func TestParseCSVRefusesMoreRowsThanTheLimit(t *testing.T) {
	t.Parallel()
	upload := csvUpload(11)
	p := Parser{MaxRows: 10}
	entries, err := p.Parse(strings.NewReader(upload), FormatCSV)
	if !errors.Is(err, ErrTooManyRows) || entries != nil {
		t.Fatalf("Parse of 11 rows with a limit of 10 = %d entries, %v", len(entries), err)
	}
	if !strings.Contains(err.Error(), "line 12 is past the limit of 10 rows") {
		t.Errorf("message %q", err)
	}
	if entries, err := p.Parse(strings.NewReader(csvUpload(10)), FormatCSV); err != nil || len(entries) != 10 {
		t.Fatalf("Parse of 10 rows with a limit of 10 = %d entries, %v", len(entries), err)
	}
}

func TestParseRefusesAnUploadLargerThanTheLimit(t *testing.T) {
	t.Parallel()
	upload := csvUpload(100)
	for _, format := range []Format{FormatCSV, FormatJSON} {
		p := Parser{MaxBytes: int64(len(upload)) - 1}
		if format == FormatJSON {
			upload = jsonLinesUpload(100)
			p.MaxBytes = int64(len(upload)) - 1
		}
		entries, err := p.Parse(strings.NewReader(upload), format)
		if !errors.Is(err, ErrTooLarge) || entries != nil {
			t.Fatalf("%s: Parse one byte over the limit = %d entries, %v", format, len(entries), err)
		}
		p.MaxBytes++
		if entries, err := p.Parse(strings.NewReader(upload), format); err != nil || len(entries) != 100 {
			t.Fatalf("%s: Parse at the limit = %d entries, %v", format, len(entries), err)
		}
	}
}

func TestParseCSVRoundTrip(t *testing.T) {
	t.Parallel()
	entries, err := Parse(strings.NewReader(csvUpload(500)), FormatCSV)
	if err != nil || len(entries) != 500 {
		t.Fatalf("Parse = %d entries, %v", len(entries), err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(fieldNames[:], ",") + "\n")
	for _, e := range entries {
		var fields []string
		for i := range fieldNames {
			fields = append(fields, *fieldOf(&e, i))
		}
		b.WriteString(strings.Join(fields, ",") + "\n")
	}
	again, err := Parse(strings.NewReader(b.String()), FormatCSV)
	if err != nil || !reflect.DeepEqual(again, entries) {
		t.Fatalf("the entries written back read differently: %v", err)
	}
}

// csvUpload returns an upload of n good rows, identifiers written as
// consoles show them.
func csvUpload(n int) string {
	var b strings.Builder
	b.WriteString("fingerprint,serial,san_uri,hardware_serial,platform,owner,label\n")
	for i := range n {
		fmt.Fprintf(&b, "%064X,0%X,urn:device:%d,SN%06d,%s,user%d@example.com,host-%d\n",
			i+1, 1000+i, i, i, platforms[i%len(platforms)], i, i)
	}
	return b.String()
}
