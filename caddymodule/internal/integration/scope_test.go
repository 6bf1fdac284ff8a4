package integration

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

// readScope reads the lines of a block named block with a scope whose
// platforms parsePlatform reads, as an integration's parser does, and
// returns what it read.
func readScope(block string, parsePlatform func(string) (policy.Platform, error), lines string) (*scope, error) {
	d := caddyfile.NewTestDispenser(block + " {\n" + lines + "\n}")
	d.Next()
	s := &scope{block: block, parsePlatform: parsePlatform}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		handled, err := s.line(d)
		if err != nil {
			return nil, err
		}
		if !handled {
			return nil, d.Errf("not a scope line: %q", d.Val())
		}
	}
	return s, nil
}

func TestScopeReadsEnableAndPlatforms(t *testing.T) {
	t.Parallel()
	s, err := readScope("mobile", policy.ParsePlatform, "enable groups pilot staff\nplatforms android IOS")
	if err != nil {
		t.Fatal(err)
	}
	if s.state != policy.Groups || !reflect.DeepEqual(s.groups, []string{"pilot", "staff"}) ||
		!reflect.DeepEqual(s.platforms, []policy.Platform{policy.Android, policy.IOS}) {
		t.Errorf("mobile read %+v", s)
	}
	// Another integration's block reads its own platforms.
	s, err = readScope("managed", policy.ParseManagedPlatform, "enable all\nplatforms windows linux")
	if err != nil {
		t.Fatal(err)
	}
	if s.state != policy.All || s.groups != nil || !reflect.DeepEqual(s.platforms, []policy.Platform{policy.Windows, policy.Linux}) {
		t.Errorf("managed read %+v", s)
	}
	if _, err := readScope("mobile", policy.ParsePlatform, "platforms windows"); err == nil {
		t.Error("the mobile block took windows")
	}
}

// TestScopeErrorsNameTheirBlock checks that the shared lines' errors name
// the block they are in, so that a second integration block's mistakes
// are not reported as the mobile block's.
func TestScopeErrorsNameTheirBlock(t *testing.T) {
	t.Parallel()
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
		_, err := readScope("other", policy.ParsePlatform, lines)
		if err == nil || !strings.Contains(err.Error(), mention) || !strings.Contains(err.Error(), "Testfile:") {
			t.Errorf("%q: error %v, want one with %q and the line", lines, err, mention)
		}
	}
}
