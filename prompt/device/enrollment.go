package device

import (
	"fmt"
	"strings"

	"github.com/trustgate/trustgate/prompt/secret"
)

// Enrollment is how a person gets a device activated.
type Enrollment string

// Enrollment choices.
const (
	// EnrollAdmin: activation codes come only from an admin (the admin API
	// or the dashboard); the prompt offers no enrollment. The default.
	EnrollAdmin Enrollment = "admin"
	// EnrollSelf: the prompt offers a person with no active device an
	// activation code. Whoever knows the person's password can then enroll
	// a device of their choosing, so in mode block it needs to be allowed
	// on purpose (prompt.DeviceTrust.EnrollmentInBlockMode).
	EnrollSelf Enrollment = "self"
	// EnrollApprove: the prompt offers a person with at least one active
	// device an activation code for another device, which stays pending
	// until one of the active devices approves it by push with number
	// matching. A person with no active device is treated as under
	// EnrollAdmin: nobody could approve for them.
	EnrollApprove Enrollment = "approve"
)

// ParseEnrollment reads an enrollment choice: admin, self or approve.
func ParseEnrollment(s string) (Enrollment, error) {
	switch e := Enrollment(s); e {
	case EnrollAdmin, EnrollSelf, EnrollApprove:
		return e, nil
	}
	return "", fmt.Errorf("unknown enrollment %q (want admin, self or approve)", s)
}

// Activation code sources. An admin's code is a bare random token; a code
// the prompt issues starts with its source and a dot. The store keeps only
// the hash of the whole code, so the source cannot be changed: a prompt
// code with its prefix cut off, or another prefix put on, matches nothing.
const (
	selfCodePrefix    = "self."
	approveCodePrefix = "approve."
)

// CodeSource returns the enrollment choice a code was issued under: admin
// for a bare code, self or approve for a prompt's.
func CodeSource(code string) Enrollment {
	switch {
	case strings.HasPrefix(code, selfCodePrefix):
		return EnrollSelf
	case strings.HasPrefix(code, approveCodePrefix):
		return EnrollApprove
	}
	return EnrollAdmin
}

// NewPromptCode returns a fresh activation code for the prompt of a site
// under e, marked with its source.
func NewPromptCode(e Enrollment) string {
	prefix := selfCodePrefix
	if e == EnrollApprove {
		prefix = approveCodePrefix
	}
	return prefix + secret.Token()
}

// PromptOffers reports whether the prompt of a site under e offers an
// activation code to a person with active devices.
func (e Enrollment) PromptOffers(active int) bool {
	switch e {
	case EnrollSelf:
		return active == 0
	case EnrollApprove:
		return active > 0
	}
	return false
}
