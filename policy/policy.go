package policy

import (
	"errors"
	"fmt"
)

// Policy is everything that decides whether a login on a device gets
// through: the mode, to whom the mobile check applies, and the requirements.
// The Caddy layer fills one per protected application.
type Policy struct {
	// Mode is "off", "check" or "block".
	Mode Mode `json:"mode,omitempty"`
	// Integration says to whom and on which platforms the mobile check
	// applies.
	Integration Integration `json:"integration,omitzero"`
	// Requirements are the device health rules.
	Requirements Requirements `json:"requirements,omitzero"`
	// Managed says to whom and on which platforms a managed device (a
	// device certificate found in the inventory) vouches for the access
	// device, where the mobile check does not apply.
	Managed Managed `json:"managed,omitzero"`
}

// Validate reports every configuration error in p.
func (p Policy) Validate() error {
	var errs []error
	switch p.Mode {
	case ModeOff, ModeCheck, ModeBlock:
	default:
		errs = append(errs, fmt.Errorf("unknown mode %q (want off, check or block)", p.Mode))
	}
	if err := p.Integration.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("integration: %w", err))
	}
	if err := p.Managed.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("managed: %w", err))
	}
	if err := p.Requirements.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("requirements: %w", err))
	}
	return errors.Join(errs...)
}
