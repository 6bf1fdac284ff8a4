package inventory

import (
	"errors"
	"fmt"
	"strings"
)

// MaxReported is how many bad rows a ParseError lists; it counts them
// all.
const MaxReported = 100

// Errors of an upload that is too big. The parser stops at the limit and
// wraps one of them with the limit it met.
var (
	ErrTooManyRows = errors.New("too many rows")
	ErrTooLarge    = errors.New("upload too large")
)

// ParseError is every problem of an upload: the bad rows, each with its
// line, at most MaxReported of them, and how many there were. An upload
// with a ParseError yields no entries.
type ParseError struct {
	// Rows are the first MaxReported problems, in the order of the
	// upload.
	Rows []*RowError
	// Total is how many problems the upload has.
	Total int
}

func (e *ParseError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d bad row", e.Total)
	if e.Total != 1 {
		b.WriteString("s")
	}
	for i, r := range e.Rows {
		if i == 3 {
			fmt.Fprintf(&b, "; …")
			break
		}
		fmt.Fprintf(&b, "; %v", r)
	}
	return b.String()
}

// add records a problem, keeping the first MaxReported.
func (e *ParseError) add(r *RowError) {
	e.Total++
	if len(e.Rows) < MaxReported {
		e.Rows = append(e.Rows, r)
	}
}

// RowError is what is wrong with one row of an upload.
type RowError struct {
	// Line is the line of the upload where the row starts, from 1.
	Line int
	// Err says what is wrong; a FieldError or a DuplicateError per field
	// when the row itself could be read.
	Err error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// FieldError is what is wrong with one field of a row.
type FieldError struct {
	// Field is the column or key: fingerprint, serial, san_uri,
	// hardware_serial, platform, owner or label.
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

func (e *FieldError) Unwrap() error { return e.Err }

// DuplicateError is an identifier that an earlier row of the same upload
// already has: two entries for one device certificate are a mistake in
// the export, and which one would vouch for it is undefined.
type DuplicateError struct {
	// Field is the kind of identifier; Value its normal form.
	Field, Value string
	// FirstLine is the line of the row that has it first.
	FirstLine int
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s %s is also on line %d", e.Field, truncate(e.Value), e.FirstLine)
}

// fieldErrors are the problems of one row.
type fieldErrors []error

// maxRowProblems bounds the problems kept for one row: a JSON object may
// repeat a bad key a million times.
const maxRowProblems = 10

// add appends err unless the row has maxRowProblems already, and then
// says that there are more.
func (p fieldErrors) add(err error) fieldErrors {
	switch {
	case len(p) < maxRowProblems:
		return append(p, err)
	case len(p) == maxRowProblems:
		return append(p, errMoreProblems)
	}
	return p
}

var errMoreProblems = errors.New("more problems")

func (p fieldErrors) Error() string {
	parts := make([]string, len(p))
	for i, err := range p {
		parts[i] = err.Error()
	}
	return strings.Join(parts, "; ")
}

func (p fieldErrors) Unwrap() []error { return p }

// Interface guards
var (
	_ error = (*ParseError)(nil)
	_ error = (*RowError)(nil)
	_ error = (*FieldError)(nil)
	_ error = (*DuplicateError)(nil)
)
