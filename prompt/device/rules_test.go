package device

import (
	"errors"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// ParseAnswer turns the app's answer into the push state and reason it
// stands for, and refuses what the protocol does not allow.
func TestParseAnswer(t *testing.T) {
	for _, tc := range []struct {
		req        protocol.AnswerRequest
		want       Answer
		badRequest bool
	}{
		{protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: "42"}, Answer{State: store.PushApproved, Number: "42"}, false},
		{protocol.AnswerRequest{Answer: protocol.AnswerDeny}, Answer{State: store.PushDenied, Reason: protocol.DenyCancelled}, false},
		{protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: protocol.DenyFraud}, Answer{State: store.PushDenied, Reason: protocol.DenyFraud}, false},
		{protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: protocol.DenyCancelled}, Answer{State: store.PushDenied, Reason: protocol.DenyCancelled}, false},
		{req: protocol.AnswerRequest{Answer: protocol.AnswerApprove, Reason: protocol.DenyFraud}, badRequest: true},
		{req: protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: "bored"}, badRequest: true},
		{req: protocol.AnswerRequest{Answer: "maybe"}, badRequest: true},
	} {
		got, err := ParseAnswer(tc.req)
		var e *Error
		if tc.badRequest {
			if !errors.As(err, &e) || e.Code != CodeBadRequest || e.Message == "" {
				t.Errorf("ParseAnswer(%+v) = %+v, %v; want a bad_request", tc.req, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAnswer(%+v) = %+v, %v; want %+v", tc.req, got, err, tc.want)
		}
	}
}

// Free text a device sends is capped, in a health report as in an
// activation, and an activation needs a code and a known platform.
func TestFreeTextIsCapped(t *testing.T) {
	long := strings.Repeat("x", MaxFreeText+1)
	if err := CheckFacts(policy.Facts{Model: strings.Repeat("x", MaxFreeText)}); err != nil {
		t.Errorf("facts at the cap refused: %v", err)
	}
	for _, f := range []policy.Facts{{Model: long}, {OSVersion: long}, {AppVersion: long}, {SecurityPatch: long}} {
		if err := CheckFacts(f); !errors.Is(err, &Error{Code: CodeBadRequest}) {
			t.Errorf("CheckFacts(%+v) = %v, want bad_request", f, err)
		}
	}
	ok := protocol.ActivateRequest{Code: "c", Platform: "ios"}
	if p, err := ParseActivation(ok); err != nil || p != policy.IOS {
		t.Errorf("ParseActivation(%+v) = %q, %v", ok, p, err)
	}
	for _, req := range []protocol.ActivateRequest{
		{Platform: "ios"}, {Code: strings.Repeat("c", 129), Platform: "ios"}, {Code: "c", Platform: "ios", Model: long},
		{Code: "c", Platform: "windows"},
	} {
		if _, err := ParseActivation(req); !errors.Is(err, &Error{Code: CodeBadRequest}) {
			t.Errorf("ParseActivation(%+v) = %v, want bad_request", req, err)
		}
	}
}

// A prompt's code says which enrollment choice issued it, and each choice
// offers codes to the people it is meant for.
func TestPromptCodesCarryTheirEnrollment(t *testing.T) {
	for _, e := range []Enrollment{EnrollSelf, EnrollApprove} {
		if got := CodeSource(NewPromptCode(e)); got != e {
			t.Errorf("CodeSource(NewPromptCode(%s)) = %s", e, got)
		}
	}
	if got := CodeSource("bare-admin-code"); got != EnrollAdmin {
		t.Errorf("CodeSource of a bare code = %s, want admin", got)
	}
	for _, tc := range []struct {
		e      Enrollment
		active int
		want   bool
	}{{EnrollAdmin, 0, false}, {EnrollAdmin, 1, false}, {EnrollSelf, 0, true}, {EnrollSelf, 1, false}, {EnrollApprove, 0, false}, {EnrollApprove, 2, true}} {
		if got := tc.e.PromptOffers(tc.active); got != tc.want {
			t.Errorf("%s.PromptOffers(%d) = %v, want %v", tc.e, tc.active, got, tc.want)
		}
	}
}

// errors.Is finds a code's sentinel whatever the message.
func TestErrorIsItsCodesSentinel(t *testing.T) {
	err := error(refuse(CodeAlreadyAnswered, "the login request was answered on another device"))
	if !errors.Is(err, ErrAlreadyAnswered) || errors.Is(err, ErrExpired) {
		t.Errorf("errors.Is on %v is wrong", err)
	}
}
