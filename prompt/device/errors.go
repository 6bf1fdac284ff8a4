package device

import (
	"errors"
	"fmt"

	"github.com/trustgate/trustgate/prompt/store"
	"go.uber.org/zap"
)

// Codes of the device protocol's errors (protocol.Error.Code), as
// docs/device-api.yaml lists them.
const (
	CodeBadRequest        = "bad_request"
	CodeNotFound          = "not_found"
	CodeConflict          = "conflict"
	CodeExpired           = "expired"
	CodeWrongUser         = "wrong_user"
	CodeWrongChallenge    = "wrong_challenge"
	CodeWrongNumber       = "wrong_number"
	CodeAlreadyAnswered   = "already_answered"
	CodeUnavailable       = "unavailable"
	CodeTooManyRequests   = "too_many_requests"
	CodeEnrollmentRefused = "enrollment_refused"
	CodeInvalidProof      = "invalid_proof"
	CodeUnknownDevice     = "unknown_device"
	CodeReplayedProof     = "replayed_proof"
	CodeRevokedDevice     = "revoked_device"
	CodeRateLimited       = "rate_limited"
)

// Error is a refusal or failure the device is told about: Code is the
// protocol's error code, Message the words it gets. Err is the cause, for
// the log only.
type Error struct {
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's code (ErrAlreadyAnswered
// and the like), whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels of the codes callers test for with errors.Is.
var (
	ErrAlreadyAnswered = &Error{Code: CodeAlreadyAnswered}
	ErrWrongNumber     = &Error{Code: CodeWrongNumber}
	ErrExpired         = &Error{Code: CodeExpired}
	ErrUnavailable     = &Error{Code: CodeUnavailable}
)

// refuse returns an Error of code with msg.
func refuse(code, msg string) *Error {
	return &Error{Code: code, Message: msg}
}

// BadRequest returns a bad_request Error with msg.
func BadRequest(msg string) *Error {
	return refuse(CodeBadRequest, msg)
}

// unavailableMessage is what a device is told when the store fails.
const unavailableMessage = "the gateway cannot complete this right now; try again"

// unavailable logs the store failure err met while doing what, tells the
// hooks, and returns the unavailable Error the device gets.
func (s *Service) unavailable(what string, err error) *Error {
	s.hooks.StoreFailed(what, err)
	s.log.Error(what, zap.Error(err))
	return &Error{Code: CodeUnavailable, Message: unavailableMessage, Err: fmt.Errorf("%s: %w", what, err)}
}

// transitionFailed is the Error of a lost or refused state change.
func (s *Service) transitionFailed(what string, err error) *Error {
	switch {
	case errors.Is(err, store.ErrConflict):
		return refuse(CodeConflict, "the transaction has moved on or expired")
	case errors.Is(err, store.ErrNotFound):
		return refuse(CodeNotFound, "no such transaction")
	}
	return s.unavailable(what, err)
}

// Unavailable logs the store failure err met while doing what, tells the
// hooks, and returns the unavailable Error the device gets, for a caller
// that reads the store through the service.
func (s *Service) Unavailable(what string, err error) *Error {
	return s.unavailable(what, err)
}
