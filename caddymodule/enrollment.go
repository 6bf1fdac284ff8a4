package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
)

// Enrollment is who may start a device's activation: "admin" (activation
// codes only from the admin API), "self" (the prompt offers a code to a
// person with no active device) or "approve" (the prompt offers a code to a
// person with an active device, which must approve the new device by push
// with number matching; a person with none is treated as under admin).
// Default: admin.
//
// Older configurations wrote a boolean: true reads as "self" (which in mode
// block then needs enrollment_block_mode) and false as "admin".
type Enrollment string

// UnmarshalJSON reads a choice, or the boolean of older configurations.
func (e *Enrollment) UnmarshalJSON(b []byte) error {
	var on bool
	if err := json.Unmarshal(b, &on); err == nil {
		*e = Enrollment(device.EnrollAdmin)
		if on {
			*e = Enrollment(device.EnrollSelf)
		}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("enrollment: want admin, self or approve: %w", err)
	}
	if _, err := device.ParseEnrollment(s); err != nil {
		return err
	}
	*e = Enrollment(s)
	return nil
}

// enrollment returns the configured choice, admin when unset.
func (h *Handler) enrollment() device.Enrollment {
	if h.Enrollment == "" {
		return device.EnrollAdmin
	}
	return device.Enrollment(h.Enrollment)
}

// validateEnrollment refuses enrollment self in mode block unless
// enrollment_block_mode says it is meant.
func (h *Handler) validateEnrollment() error {
	if _, err := device.ParseEnrollment(string(h.enrollment())); err != nil {
		return err
	}
	if h.enrollment() == device.EnrollSelf && h.deviceMode() == policy.ModeBlock && !h.EnrollmentBlockMode {
		return errors.New("enrollment self (or a bare enrollment, enrollment on, or JSON true) in mode block lets whoever knows a password enroll a device and be trusted: " +
			"write enrollment self block_mode to allow it on purpose, or use enrollment approve or enrollment admin")
	}
	return nil
}

// unmarshalEnrollment parses:
//
//	enrollment admin | self [block_mode] | approve | on | off
//
// A bare enrollment and on mean self, off means admin. enrollment self in
// mode block without block_mode is refused once the whole block is read
// (checkEnrollmentLine), by validateEnrollment, naming this line.
func (h *Handler) unmarshalEnrollment(d *caddyfile.Dispenser) error {
	if h.Enrollment != "" {
		return d.Err("enrollment already specified")
	}
	args := d.RemainingArgs()
	choice := "self"
	if len(args) > 0 {
		choice = args[0]
	}
	switch choice {
	case "on":
		choice = "self"
	case "off":
		choice = "admin"
	}
	e, err := device.ParseEnrollment(choice)
	if err != nil {
		return d.WrapErr(err)
	}
	switch {
	case len(args) == 2 && e == device.EnrollSelf && args[0] == "self" && args[1] == "block_mode":
		h.EnrollmentBlockMode = true
	case len(args) == 2 && args[1] == "block_mode":
		return d.Errf("enrollment: block_mode goes only with self (enrollment self block_mode)")
	case len(args) > 1:
		return d.ArgErr()
	}
	h.Enrollment = Enrollment(e)
	if e == device.EnrollSelf && !h.EnrollmentBlockMode {
		h.enrollmentSelfAt = fmt.Sprintf("%s:%d", d.File(), d.Line())
	}
	return nil
}

// checkEnrollmentLine returns, once the directive's block is read and the
// mode known, validateEnrollment's error naming the enrollment line.
func (h *Handler) checkEnrollmentLine() error {
	at := h.enrollmentSelfAt
	h.enrollmentSelfAt = ""
	if at == "" {
		return nil
	}
	if err := h.validateEnrollment(); err != nil {
		return fmt.Errorf("%w, at %s", err, at)
	}
	return nil
}
