package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/web"
)

// Page sizes of the list routes.
const (
	defaultLimit = 100
	// MaxLimit is the largest page a list route returns, and the page in
	// which an export reads the store.
	MaxLimit = 1000
)

// badRequest is a 400 whose message starts with the parameter at fault.
func badRequest(param, format string, args ...any) error {
	return web.Errorf(http.StatusBadRequest, param+": "+format, args...)
}

// unavailable is a 503 for a store that failed.
func unavailable(what string, err error) error {
	return &web.Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("%s: %v", what, err), Err: err}
}

// decodeBody decodes r's JSON body (at most 64 KiB) into v, refusing
// unknown fields; with optional, an empty body leaves v as it is.
func decodeBody(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !(optional && errors.Is(err, io.EOF)) {
		return &web.Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("decoding request: %v", err), Err: err}
	}
	return nil
}

// queryParams reads a route's query parameters, refusing any it does not
// know (a misspelt filter would otherwise silently match everything) and
// any given twice.
type queryParams struct {
	values url.Values
}

func readQuery(r *http.Request, known ...string) (queryParams, error) {
	v := r.URL.Query()
	for name, vals := range v {
		if !slices.Contains(known, name) {
			return queryParams{}, badRequest(name, "unknown parameter (want one of %s)", strings.Join(known, ", "))
		}
		if len(vals) > 1 && name != "os_older_than" {
			return queryParams{}, badRequest(name, "given %d times, want once", len(vals))
		}
	}
	return queryParams{values: v}, nil
}

func (q queryParams) get(name string) string { return q.values.Get(name) }

// time reads an RFC 3339 time; zero when absent.
func (q queryParams) time(name string) (time.Time, error) {
	s := q.get(name)
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(name, "want an RFC 3339 time such as 2026-01-02T15:04:05Z, got %q", s)
	}
	return t, nil
}

// bool reads true or false; nil when absent.
func (q queryParams) bool(name string) (*bool, error) {
	s := q.get(name)
	if s == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return nil, badRequest(name, "want true or false, got %q", s)
	}
	return &b, nil
}

// limit reads a page size from 1 to MaxLimit; def when absent.
func (q queryParams) limit(name string, def int) (int, error) {
	s := q.get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxLimit {
		return 0, badRequest(name, "want 1 to %d, got %q", MaxLimit, s)
	}
	return n, nil
}

// oneOf reads a value that must be one of allowed; empty when absent.
func (q queryParams) oneOf(name string, allowed ...string) (string, error) {
	s := q.get(name)
	if s != "" && !slices.Contains(allowed, s) {
		return "", badRequest(name, "want one of %q, got %q", allowed, s)
	}
	return s, nil
}

// offset reads a position from 0; 0 when absent.
func (q queryParams) offset(name string) (int, error) {
	s := q.get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, badRequest(name, "want a whole number from 0, got %q", s)
	}
	return n, nil
}
