package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// APIError is an error response of the device API.
type APIError struct {
	// Status is the HTTP status code.
	Status int
	// Code is the protocol's machine-readable code, e.g. "replayed_proof";
	// empty when the response was not a protocol.Error (a proxy's page,
	// say).
	Code string
	// Message is the gateway's human-readable message.
	Message string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gateway answered %d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// ErrorCode returns the protocol error code of err if it is or wraps an
// *APIError, else "".
func ErrorCode(err error) string {
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	return ""
}

// newAPIError decodes an error response body.
func newAPIError(status int, body []byte) *APIError {
	e := &APIError{Status: status}
	var pe protocol.Error
	if json.Unmarshal(body, &pe) == nil && (pe.Code != "" || pe.Error != "") {
		e.Code, e.Message = printable(pe.Code, 64), printable(pe.Error, 300)
		return e
	}
	e.Message = printable(string(body), 200)
	return e
}

// printable makes text from the gateway safe to print to a terminal:
// control characters are dropped and it is cut to max runes.
func printable(s string, max int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}
