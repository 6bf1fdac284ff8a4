package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// table is one run's plain-text result: a title, columns, rows and notes.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
	// leftAligned lays the columns out flush left (a measure–value
	// table); by default they are flush right, for figures.
	leftAligned bool
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// print writes the table aligned in columns.
func (t *table) print(w io.Writer) {
	fmt.Fprintf(w, "\n== %s\n", t.title)
	var flags uint = tabwriter.AlignRight
	if t.leftAligned {
		flags = 0
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', flags)
	// Right alignment needs every cell closed by a tab; left alignment
	// would then pad the last column with trailing spaces.
	end := "\t"
	if t.leftAligned {
		end = ""
	}
	fmt.Fprintln(tw, strings.Join(t.header, "\t")+end)
	for _, r := range t.rows {
		fmt.Fprintln(tw, strings.Join(r, "\t")+end)
	}
	tw.Flush()
	for _, n := range t.notes {
		fmt.Fprintln(w, "  "+n)
	}
}

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// micros formats a duration in microseconds with one decimal.
func micros(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

// megabytes formats a byte count in MiB.
func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
