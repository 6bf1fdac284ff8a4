package integration

import (
	"reflect"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/trustgate/trustgate/policy"
)

func parseManaged(block string) (*policy.Managed, error) {
	d := caddyfile.NewTestDispenser(block)
	d.Next()
	return ParseManaged(d)
}

func TestParseManagedReadsItsLines(t *testing.T) {
	t.Parallel()
	m, err := parseManaged("managed {\n enable groups it ops\n platforms windows macOS\n match san_uri\n}")
	if err != nil {
		t.Fatal(err)
	}
	want := &policy.Managed{State: policy.Groups, Groups: []string{"it", "ops"},
		Platforms: []policy.Platform{policy.Windows, policy.MacOS}, Match: policy.MatchSANURI}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("managed = %+v, want %+v", m, want)
	}
	m, err = parseManaged("managed {\n enable all\n}")
	if err != nil || m.State != policy.All || m.Platforms != nil || m.MatchBy() != policy.MatchFingerprint {
		t.Errorf("defaults: %+v, %v", m, err)
	}
}

// Every mistake an admin can make in the block is refused with a message
// that names the block and what was wrong.
func TestParseManagedRefusesMistakes(t *testing.T) {
	t.Parallel()
	for block, want := range map[string]string{
		"managed extra {\n}":                                 "wrong argument count",
		"managed {\n enable sometimes\n}":                    "managed enable: unknown integration state",
		"managed {\n platforms windows beos\n}":              `managed platforms: unknown platform "beos"`,
		"managed {\n match thumbprint\n}":                    `managed match: unknown match "thumbprint"`,
		"managed {\n match\n}":                               "wrong argument count",
		"managed {\n match serial fingerprint\n}":            "wrong argument count",
		"managed {\n match serial\n match serial\n}":         "match already specified",
		"managed {\n require screen_lock\n}":                 `unknown managed option "require"`,
		"managed {\n enable all\n enable groups it\n}":       "managed: enable already specified",
		"managed {\n platforms linux\n platforms windows\n}": "managed: platforms already specified",
	} {
		if _, err := parseManaged(block); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", block, err, want)
		}
	}
}
