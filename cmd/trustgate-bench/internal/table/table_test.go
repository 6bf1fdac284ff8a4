package table

import (
	"bytes"
	"testing"
	"time"
)

func TestPrintAlignsFiguresRightAndMeasuresLeft(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		t    Table
		want string
	}{
		{
			name: "figures",
			t: Table{
				Title:  "hot path",
				Header: []string{"config", "req/s"},
				Rows:   [][]string{{"A plain caddy", "12117"}, {"B", "9"}},
				Notes:  []string{"B/A: 0.834"},
			},
			want: "\n== hot path\n" +
				"         config  req/s\n" +
				"  A plain caddy  12117\n" +
				"              B      9\n" +
				"  B/A: 0.834\n",
		},
		{
			name: "measures",
			t: Table{
				Title:       "pending",
				Header:      []string{"measure", "value"},
				Rows:        [][]string{{"opened", "20 of 20"}, {"errors while held", "0"}},
				LeftAligned: true,
			},
			want: "\n== pending\n" +
				"measure            value\n" +
				"opened             20 of 20\n" +
				"errors while held  0\n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			c.t.Print(&out)
			if out.String() != c.want {
				t.Errorf("printed\n%q\nwant\n%q", out.String(), c.want)
			}
		})
	}
}

func TestAddAndNoteAppendInOrder(t *testing.T) {
	t.Parallel()
	var tb Table
	tb.Add("a", "1")
	tb.Add("b", "2")
	tb.Note("%d errors, first: %v", 3, "refused")
	if len(tb.Rows) != 2 || tb.Rows[1][0] != "b" || tb.Rows[1][1] != "2" {
		t.Errorf("rows %q", tb.Rows)
	}
	if len(tb.Notes) != 1 || tb.Notes[0] != "3 errors, first: refused" {
		t.Errorf("notes %q", tb.Notes)
	}
}

func TestFiguresKeepTheirUnitsAndDecimals(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ got, want string }{
		{Millis(1250 * time.Microsecond), "1.25 ms"},
		{Micros(9400 * time.Nanosecond), "9.4 µs"},
		{MiB(59 << 20), "59.0 MiB"},
		{KiBEach(3<<10, 2), "1.5 KiB"},
		{KiBEach(1024, 0), "n/a"},
	} {
		if c.got != c.want {
			t.Errorf("%q, want %q", c.got, c.want)
		}
	}
}
