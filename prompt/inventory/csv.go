package inventory

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trustgate/trustgate/prompt/store"
)

// parseCSV reads a CSV upload (see FormatCSV) into c.
func parseCSV(in io.Reader, c *collector) error {
	r := csv.NewReader(in)
	r.ReuseRecord = true
	header, err := r.Read()
	if err == io.EOF {
		c.fail(1, errors.New("the upload is empty: want a header row naming the columns"))
		return nil
	}
	if err != nil {
		return csvFailure(err, c, 0)
	}
	headerLine, _ := r.FieldPos(0)
	columns, err := csvColumns(header)
	if err != nil {
		c.fail(headerLine, err)
		return nil
	}
	for {
		record, err := r.Read()
		if err == io.EOF {
			return nil
		}
		if record != nil && blank(record) {
			continue
		}
		if err != nil {
			if err := csvFailure(err, c, len(columns)); err != nil {
				return err
			}
			continue
		}
		line, _ := r.FieldPos(0)
		var e store.InventoryEntry
		for i, field := range columns {
			*fieldOf(&e, field) = record[i]
		}
		if err := c.row(line, e, nil); err != nil {
			return err
		}
	}
}

// csvColumns returns the field of each column named in the header.
func csvColumns(header []string) ([]int, error) {
	columns := make([]int, len(header))
	var problems fieldErrors
	var unknown []string
	var have [fieldCount]bool
	for i, name := range header {
		f := fieldIndex(name)
		switch {
		case strings.TrimSpace(name) == "":
			problems = append(problems, fmt.Errorf("column %d has no name", i+1))
		case f < 0:
			unknown = append(unknown, fmt.Sprintf("%q", truncate(name)))
		case have[f]:
			problems = append(problems, fmt.Errorf("column %s is named twice", fieldNames[f]))
		}
		if f >= 0 {
			have[f] = true
		}
		columns[i] = f
	}
	if len(unknown) > 0 {
		problems = append(problems, fmt.Errorf("unknown column %s (the columns are %s)", strings.Join(unknown, ", "), fieldList()))
	}
	if !have[fieldPlatform] {
		problems = append(problems, errors.New("no platform column"))
	}
	if !have[fieldFingerprint] && !have[fieldSerial] && !have[fieldSANURI] && !have[fieldHardwareSerial] {
		problems = append(problems, errors.New("no identifier column (fingerprint, serial, san_uri or hardware_serial)"))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("header: %w", problems)
	}
	return columns, nil
}

// csvFailure records a row that cannot be read as CSV (of a header of
// columns fields), and returns any other error (of reading the upload).
func csvFailure(err error, c *collector, columns int) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	switch {
	case errors.Is(pe.Err, csv.ErrFieldCount):
		c.fail(pe.StartLine, fmt.Errorf("the header names %d columns, this row has a different number of fields", columns))
	case pe.Line != pe.StartLine:
		c.fail(pe.StartLine, fmt.Errorf("line %d, column %d: %w", pe.Line, pe.Column, pe.Err))
	default:
		c.fail(pe.StartLine, fmt.Errorf("column %d: %w", pe.Column, pe.Err))
	}
	return nil
}

// blank reports whether every field of a record is blank.
func blank(record []string) bool {
	for _, f := range record {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
