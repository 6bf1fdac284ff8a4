package integration

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

// readScope reads the lines of a block named block with a scope, as an
// integration's parser does, and returns what it read.
func readScope(block, lines string) (policy.Integration, error) {
	d := caddyfile.NewTestDispenser(block + " {\n" + lines + "\n}")
	d.Next()
	s := &scope{block: block, parsePlatform: policy.ParsePlatform}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		handled, err := s.line(d)
		if err != nil {
			return policy.Integration{}, err
		}
		if !handled {
			return policy.Integration{}, d.Errf("not a scope line: %q", d.Val())
		}
	}
	return s.integration, nil
}

func TestScopeReadsEnableAndPlatforms(t *testing.T) {
	got, err := readScope("mobile", "enable groups pilot staff\nplatforms android IOS")
	if err != nil {
		t.Fatal(err)
	}
	want := policy.Integration{
		State:     policy.Groups,
		Groups:    []string{"pilot", "staff"},
		Platforms: []policy.Platform{policy.Android, policy.IOS},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read %+v, want %+v", got, want)
	}
}

// TestScopeErrorsNameTheirBlock checks that the shared lines' errors name
// the block they are in, so that a second integration block's mistakes
// are not reported as the mobile block's.
func TestScopeErrorsNameTheirBlock(t *testing.T) {
	cases := map[string]string{
		"enable all\nenable disabled":  "other: enable already specified",
		"enable sometimes":             "other enable: unknown integration state",
		"enable groups":                "other enable groups: name at least one group",
		"enable all pilot":             `other enable all takes no group names, got "pilot"`,
		"platforms ios\nplatforms ios": "other: platforms already specified",
		"platforms symbian":            `other platforms: unknown platform "symbian"`,
		"platforms ios ios":            `other platforms: "ios" listed twice`,
		"platforms":                    "wrong argument count",
	}
	for lines, mention := range cases {
		_, err := readScope("other", lines)
		if err == nil || !strings.Contains(err.Error(), mention) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: error %v, want one with %q and the line", lines, err, mention)
		}
	}
}
