package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/trustgate/trustgate/prompt/store"
)

// jsonReader reads a JSON upload (see FormatJSON) token by token, so that
// a repeated key is seen and every row's line is known.
type jsonReader struct {
	dec   *json.Decoder
	lines *lineCounter
	c     *collector
}

// errStop ends the reading of an upload that cannot be read further; its
// reason is already among the collector's problems.
var errStop = errors.New("stop")

// parseJSON reads a JSON upload into c.
func parseJSON(in io.Reader, c *collector) error {
	lines := newLineCounter(in)
	j := &jsonReader{dec: json.NewDecoder(lines), lines: lines, c: c}
	err := j.upload()
	if err == errStop {
		return nil
	}
	return err
}

func (j *jsonReader) upload() error {
	tok, err := j.token()
	if err == io.EOF {
		j.c.fail(1, errors.New("the upload is empty: want an array of objects or one object per line"))
		return errStop
	}
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('['):
		return j.array()
	case json.Delim('{'):
		return j.objectLines()
	}
	return j.stop(errors.New("want an array of objects or one object per line"))
}

// array reads the objects of an array, then the end of the upload.
func (j *jsonReader) array() error {
	for j.dec.More() {
		tok, err := j.next()
		if err != nil {
			return err
		}
		if tok != json.Delim('{') {
			line := j.line()
			if err := j.skip(tok); err != nil {
				return err
			}
			j.c.fail(line, errors.New("an element of the array is not an object"))
			continue
		}
		if err := j.object(); err != nil {
			return err
		}
	}
	if _, err := j.next(); err != nil { // the closing ']'
		return err
	}
	switch _, err := j.token(); err {
	case io.EOF:
		return nil
	case nil:
		return j.stop(errors.New("more JSON after the array"))
	default:
		return err
	}
}

// objectLines reads objects one after the other, the first one opened.
func (j *jsonReader) objectLines() error {
	for {
		if err := j.object(); err != nil {
			return err
		}
		tok, err := j.token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if tok != json.Delim('{') {
			return j.stop(errors.New("want one object per line"))
		}
	}
}

// object reads the keys and values of an object whose '{' was just read,
// and hands the entry to the collector.
func (j *jsonReader) object() error {
	line := j.line()
	var e store.InventoryEntry
	var problems fieldErrors
	var have [fieldCount]bool
	for j.dec.More() {
		tok, err := j.next()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		if tok, err = j.next(); err != nil {
			return err
		}
		f := fieldIndex(key)
		switch {
		case f < 0:
			problems = problems.add(fmt.Errorf("unknown key %q (the keys are %s)", truncate(key), fieldList()))
		case have[f]:
			problems = problems.add(fmt.Errorf("key %s is given twice", fieldNames[f]))
		}
		switch v := tok.(type) {
		case string:
			if f >= 0 && !have[f] {
				*fieldOf(&e, f) = v
			}
		case nil:
		default:
			if err := j.skip(tok); err != nil {
				return err
			}
			problems = problems.add(&FieldError{Field: truncate(key), Err: errors.New("not a string")})
		}
		if f >= 0 {
			have[f] = true
		}
	}
	if _, err := j.next(); err != nil { // the closing '}'
		return err
	}
	return j.c.row(line, e, problems)
}

// skip reads the rest of a value that began with tok.
func (j *jsonReader) skip(tok json.Token) error {
	depth := 0
	for {
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, err = j.next(); err != nil {
			return err
		}
	}
}

// token reads the next token, and counts the lines up to its end. A
// syntax error is recorded with its line and stops the reading.
func (j *jsonReader) token() (json.Token, error) {
	tok, err := j.dec.Token()
	j.lines.lineAt(j.dec.InputOffset())
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return nil, j.stop(fmt.Errorf("not JSON: %v", syntax))
	case err == io.ErrUnexpectedEOF:
		return nil, j.stop(errors.New("the JSON ends in the middle of a value"))
	}
	return tok, err
}

// next reads the next token inside an array or object, where the end of
// the upload is an error.
func (j *jsonReader) next() (json.Token, error) {
	tok, err := j.token()
	if err == io.EOF {
		return nil, j.stop(errors.New("the JSON ends in the middle of a value"))
	}
	return tok, err
}

// line is the line of the token just read (which ends on the line it
// starts on: no token holds a newline).
func (j *jsonReader) line() int { return j.lines.line }

// stop records why the upload cannot be read further, at the current
// line.
func (j *jsonReader) stop(err error) error {
	j.c.fail(j.lines.line, err)
	return errStop
}
