package policy_test

import (
	"testing"

	"github.com/trustgate/trustgate/policy"
)

var versionSeeds = []string{
	"17.4.1", "17.4", "14", "13.0.0_r1", "14.1-beta2", " 17.4 ", "v2.3", "18.0b3",
	"2.1+45", "", "beta", "17.4.", "4294967296", "1.2.3.4.5.6.7.8.9", "13.0.0_r01",
}

// FuzzParseVersion checks that parsing never panics and that a parsed
// version formats to a string that parses back to an equal version with the
// same format.
func FuzzParseVersion(f *testing.F) {
	for _, s := range versionSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := policy.ParseVersion(s)
		if err != nil {
			return
		}
		formatted := v.String()
		back, err := policy.ParseVersion(formatted)
		if err != nil {
			t.Fatalf("ParseVersion(%q) formats as %q, which does not parse: %v", s, formatted, err)
		}
		if c := back.Compare(v); c != 0 {
			t.Fatalf("ParseVersion(%q) formats as %q, which compares %d to it", s, formatted, c)
		}
		if back.String() != formatted {
			t.Fatalf("format of %q is not stable: %q then %q", s, formatted, back.String())
		}
		if v.Compare(v) != 0 {
			t.Fatalf("%q does not compare equal to itself", s)
		}
	})
}

// FuzzCompareVersions checks that comparison never panics and is
// reflexive, antisymmetric and transitive on parseable input.
func FuzzCompareVersions(f *testing.F) {
	for i, s := range versionSeeds {
		f.Add(s, versionSeeds[(i+1)%len(versionSeeds)], versionSeeds[(i+2)%len(versionSeeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		ab, errAB := policy.CompareVersions(a, b)
		ba, errBA := policy.CompareVersions(b, a)
		if (errAB == nil) != (errBA == nil) {
			t.Fatalf("CompareVersions(%q, %q) error %v but reversed %v", a, b, errAB, errBA)
		}
		if errAB != nil {
			return
		}
		if ab != -ba {
			t.Fatalf("not antisymmetric: (%q, %q) = %d, reversed %d", a, b, ab, ba)
		}
		if ab < -1 || ab > 1 {
			t.Fatalf("CompareVersions(%q, %q) = %d, want -1, 0 or 1", a, b, ab)
		}
		if aa, _ := policy.CompareVersions(a, a); aa != 0 {
			t.Fatalf("not reflexive: (%q, %q) = %d", a, a, aa)
		}
		bc, err := policy.CompareVersions(b, c)
		if err != nil {
			return
		}
		ac, _ := policy.CompareVersions(a, c)
		if ab <= 0 && bc <= 0 && ac > 0 || ab >= 0 && bc >= 0 && ac < 0 {
			t.Fatalf("not transitive: %q?%q = %d, %q?%q = %d, %q?%q = %d", a, b, ab, b, c, bc, a, c, ac)
		}
	})
}
