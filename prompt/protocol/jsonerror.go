package protocol

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// DescribeJSONError turns an error from decoding a JSON request (or a proof's
// claims) into a plain message for the client: it names the field and what
// the field must be, in the words of this API, and never the Go types or the
// decoder's own wording ("cannot unmarshal number into Go struct field
// ProofClaims.iat of type int64", "json: unknown field"). prefix, when not
// empty, is put before field names ("facts" gives "facts.screen_lock").
func DescribeJSONError(err error, prefix string) string {
	field := func(name string) string {
		name = printableField(name)
		if prefix == "" {
			return name
		}
		if name == "" {
			return prefix
		}
		return prefix + "." + name
	}
	var (
		syntax   *json.SyntaxError
		typeErr  *json.UnmarshalTypeError
		wantType string
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, io.EOF):
		if prefix != "" {
			return prefix + " is empty"
		}
		return "the body is empty; send a JSON object"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	case errors.As(err, &syntax):
		return "not valid JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typeErr):
		wantType = describeJSONType(typeErr.Type)
		name := typeErr.Field
		if name == "" && prefix == "" {
			return "the body must be " + wantType
		}
		if name == "" {
			return prefix + " must be " + wantType
		}
		if name == "iat" && prefix == "" {
			// A proof's issue time (ProofClaims.IssuedAt).
			wantType = "a whole number of seconds since the Unix epoch"
		}
		return "field " + field(name) + " must be " + wantType
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		unq, uerr := strconv.Unquote(name)
		if uerr != nil {
			unq = name
		}
		return "unknown field " + strconv.Quote(field(unq))
	}
	return "not valid JSON"
}

// describeJSONType names what a JSON value for a field of type t must be.
func describeJSONType(t reflect.Type) string {
	if t == nil {
		return "a different JSON type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different JSON type"
}

// printableField keeps a field name from a request short and printable.
func printableField(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
