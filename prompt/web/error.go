package web

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error the person or client is told about: the status of the
// answer, the message they see and, for devices and API clients, a stable
// code. Err is the cause, for the log only; it is never shown.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int
	// Message is what the person or client is told, in plain words.
	Message string
	// Code is the machine-readable reason of a JSON answer (the device
	// protocol's error codes); empty leaves it out.
	Code string
	// Err is the cause, logged but never shown.
	Err error
}

// Errorf returns an Error with status and a message made from format.
func Errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with status and msg whose cause is err.
func Wrap(err error, status int, msg string) *Error {
	return &Error{Status: status, Message: msg, Err: err}
}

// WithCode returns a copy of e with the given code.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Err)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// HandlerFunc is an HTTP handler that returns its failure instead of
// writing it; an ErrorWriter turns the failure into the answer.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// AsError returns err as an *Error: itself or the first *Error it wraps,
// or, for any other error, a 500 whose cause is err, so that an unexpected
// failure never shows its text.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(err, http.StatusInternalServerError, "internal error")
}

// JSONError is the body of a JSON error answer.
type JSONError struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// ErrorWriter is the one place an error becomes an answer. Page renders it
// for a browser; without Page, or for a client that is not a browser, it is
// JSON ({"error": message, "code": code}). Log, when set, hears every
// error whose status is 500 or more, with its cause.
type ErrorWriter struct {
	// Page writes e as a page for a browser. Nil: always JSON.
	Page func(w http.ResponseWriter, r *http.Request, e *Error)
	// Log hears server-side failures (status 500 and up). Nil: none.
	Log func(r *http.Request, e *Error)
}

// Write answers err.
func (ew ErrorWriter) Write(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	if e.Status >= http.StatusInternalServerError && ew.Log != nil {
		ew.Log(r, e)
	}
	if ew.Page != nil && WantsPage(r) {
		ew.Page(w, r, e)
		return
	}
	WriteJSON(w, e.Status, JSONError{Error: e.Message, Code: e.Code})
}

// Handle adapts h to an http.Handler whose failures ew answers.
func (ew ErrorWriter) Handle(h HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			ew.Write(w, r, err)
		}
	})
}
