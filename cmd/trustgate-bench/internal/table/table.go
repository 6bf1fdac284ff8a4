// Package table is how trustgate-bench prints its results: each run fills
// one Table (a title, a header, rows of cells and notes under them) and the
// command prints it as aligned plain text. The figures' formats (Millis,
// Micros, MiB, KiBEach) live here too, so that every table writes a
// duration or a size the same way.
package table

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Table is one run's plain-text result: a title, columns, rows and notes.
type Table struct {
	// Title is the line printed above the table, after "== ".
	Title string

	// Header names the columns.
	Header []string

	// Rows are the cells, one slice per row, in the header's order.
	Rows [][]string

	// Notes are printed under the table, one per line, indented.
	Notes []string

	// LeftAligned lays the columns out flush left (a measure–value
	// table). Default: flush right, for figures.
	LeftAligned bool
}

// Add appends a row of cells.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Note appends a note, formatted as by fmt.Sprintf.
func (t *Table) Note(format string, args ...any) {
	t.Notes = append(t.Notes, fmt.Sprintf(format, args...))
}

// Print writes the table aligned in columns.
func (t *Table) Print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s\n", t.Title)
	var flags uint = tabwriter.AlignRight
	if t.LeftAligned {
		flags = 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', flags)
	// Right alignment needs every cell closed by a tab; left alignment
	// would then pad the last column with trailing spaces.
	end := "\t"
	if t.LeftAligned {
		end = ""
	}
	fmt.Fprintln(tw, strings.Join(t.Header, "\t")+end)
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+end)
	}
	tw.Flush()
	for _, n := range t.Notes {
		fmt.Fprintln(w, "  "+n)
	}
}
