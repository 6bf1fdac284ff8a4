package policy_test

import (
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
)

func TestParseMode(t *testing.T) {
	for in, want := range map[string]policy.Mode{
		"off": policy.ModeOff, "check": policy.ModeCheck, "block": policy.ModeBlock,
		" Block ": policy.ModeBlock, "CHECK": policy.ModeCheck,
	} {
		if got, err := policy.ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v, want %q", in, got, err, want)
		}
	}
}

func TestParseModeRefusesUnknownModeClearly(t *testing.T) {
	for _, in := range []string{"", "enforce", "blocking", "on"} {
		_, err := policy.ParseMode(in)
		if err == nil {
			t.Errorf("ParseMode(%q): want an error", in)
			continue
		}
		if !strings.Contains(err.Error(), "off, check or block") {
			t.Errorf("ParseMode(%q) error %q does not name the valid modes", in, err)
		}
	}
}
