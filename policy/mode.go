package policy

import (
	"fmt"
	"strings"
)

// Mode is how a protected application uses device trust.
type Mode string

// Modes.
const (
	// ModeOff does no device check.
	ModeOff Mode = "off"
	// ModeCheck never blocks for trust but records it on every login, with
	// would_block when ModeBlock would have refused.
	ModeCheck Mode = "check"
	// ModeBlock lets in only devices proven trusted.
	ModeBlock Mode = "block"
)

// ParseMode parses "off", "check" or "block", ignoring case and surrounding
// spaces.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case ModeOff, ModeCheck, ModeBlock:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want off, check or block)", truncate(s))
}
