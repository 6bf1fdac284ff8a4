package inventory

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// fieldNames are the columns of a CSV upload and the keys of a JSON one,
// in the order of fieldOf.
var fieldNames = [...]string{"fingerprint", "serial", "san_uri", "hardware_serial", "platform", "owner", "label"}

// Positions in fieldNames.
const (
	fieldFingerprint = iota
	fieldSerial
	fieldSANURI
	fieldHardwareSerial
	fieldPlatform
	fieldOwner
	fieldLabel
	fieldCount
)

// fieldIndex returns the position of a column or key in fieldNames, in
// any case, or -1.
func fieldIndex(name string) int {
	name = strings.ToLower(strings.TrimSpace(name))
	for i, n := range fieldNames {
		if n == name {
			return i
		}
	}
	return -1
}

// fieldList names the columns and keys, for error messages.
func fieldList() string { return strings.Join(fieldNames[:], ", ") }

// fieldOf returns the field of e at position i of fieldNames.
func fieldOf(e *store.InventoryEntry, i int) *string {
	switch i {
	case fieldFingerprint:
		return &e.Fingerprint
	case fieldSerial:
		return &e.Serial
	case fieldSANURI:
		return &e.SANURI
	case fieldHardwareSerial:
		return &e.HardwareSerial
	case fieldPlatform:
		return &e.Platform
	case fieldOwner:
		return &e.Owner
	default:
		return &e.Label
	}
}

// collector gathers the rows of one upload: their entries while every row
// is good, and the problems of the bad ones with the lines of
// duplicates.
type collector struct {
	maxRows int
	rows    int
	entries []store.InventoryEntry
	// seen maps each identifier, per kind (the first four fields), to the
	// line of the row that has it.
	seen     [fieldHardwareSerial + 1]map[string]int
	problems ParseError
}

func newCollector(maxRows int) *collector {
	c := &collector{maxRows: maxRows}
	for i := range c.seen {
		c.seen[i] = make(map[string]int)
	}
	return c
}

// row takes the entry read from the row starting at line, with the
// problems found while reading it. It fails only when the upload has too
// many rows.
func (c *collector) row(line int, e store.InventoryEntry, problems fieldErrors) error {
	c.rows++
	if c.rows > c.maxRows {
		return fmt.Errorf("%w: line %d is past the limit of %d rows per upload", ErrTooManyRows, line, c.maxRows)
	}
	n, fieldProblems := normalizeEntry(e)
	problems = append(problems, fieldProblems...)
	for i := range c.seen {
		v := *fieldOf(&n, i)
		if v == "" {
			continue
		}
		if first, ok := c.seen[i][v]; ok {
			problems = append(problems, &DuplicateError{Field: fieldNames[i], Value: v, FirstLine: first})
			continue
		}
		c.seen[i][v] = line
	}
	if len(problems) > 0 {
		c.fail(line, problems)
		return nil
	}
	if c.problems.Total == 0 {
		c.entries = append(c.entries, n)
	}
	return nil
}

// fail records a row that is wrong.
func (c *collector) fail(line int, err error) {
	c.problems.add(&RowError{Line: line, Err: err})
	c.entries = nil
}

// result returns the entries, or every problem.
func (c *collector) result() ([]store.InventoryEntry, error) {
	if c.problems.Total > 0 {
		return nil, &c.problems
	}
	return c.entries, nil
}
