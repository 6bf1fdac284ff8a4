package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

func TestParseVersionAcceptsRealVersionStrings(t *testing.T) {
	tests := []struct {
		in                  string
		major, minor, patch uint32
		suffix              string
		canonical           string
	}{
		{"17.4.1", 17, 4, 1, "", "17.4.1"},
		{"17.4", 17, 4, 0, "", "17.4"},
		{"14", 14, 0, 0, "", "14"},
		{"13.0.0_r1", 13, 0, 0, "_r1", "13.0.0_r1"},
		{"14.1-beta2", 14, 1, 0, "-beta2", "14.1-beta2"},
		{" 17.4 ", 17, 4, 0, "", "17.4"},
		{"v2.3.0", 2, 3, 0, "", "2.3.0"},
		{"V2", 2, 0, 0, "", "2"},
		{"018.02", 18, 2, 0, "", "18.2"},
		{"18.0b3", 18, 0, 0, "b3", "18.0b3"},
		{"2.1+45", 2, 1, 0, "+45", "2.1+45"},
		{"1.2.3.RELEASE", 1, 2, 3, ".RELEASE", "1.2.3.RELEASE"},
		{"1.2.3.4.5.6.7.8", 1, 2, 3, "", "1.2.3.4.5.6.7.8"},
		{"4294967295", 4294967295, 0, 0, "", "4294967295"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := policy.ParseVersion(tt.in)
			if err != nil {
				t.Fatalf("ParseVersion(%q): %v", tt.in, err)
			}
			if v.Major() != tt.major || v.Minor() != tt.minor || v.Patch() != tt.patch || v.Suffix() != tt.suffix {
				t.Errorf("ParseVersion(%q) = %d.%d.%d suffix %q, want %d.%d.%d suffix %q",
					tt.in, v.Major(), v.Minor(), v.Patch(), v.Suffix(), tt.major, tt.minor, tt.patch, tt.suffix)
			}
			if got := v.String(); got != tt.canonical {
				t.Errorf("String() = %q, want %q", got, tt.canonical)
			}
		})
	}
}

func TestParseVersionRefusesGarbage(t *testing.T) {
	tests := map[string]string{
		"empty":                "",
		"spaces only":          "   ",
		"v only":               "v",
		"no leading digit":     "beta",
		"leading dot":          ".17",
		"negative":             "-1",
		"two vs":               "vv1",
		"trailing dot":         "17.4.",
		"lone separator":       "17_",
		"double separator":     "17.4..1",
		"space inside":         "17.4 (21E219)",
		"slash":                "17/4",
		"unicode":              "17.4é",
		"nine components":      "1.2.3.4.5.6.7.8.9",
		"overflow 32 bits":     "4294967296",
		"overflow 64 bits":     "99999999999999999999999",
		"longer than 64 bytes": "1." + strings.Repeat("1", 63),
		"nul byte":             "1\x00",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if v, err := policy.ParseVersion(in); err == nil {
				t.Errorf("ParseVersion(%q) = %v, want an error", in, v)
			}
		})
	}
}

func TestParseVersionErrorIsShortForHugeInput(t *testing.T) {
	in := strings.Repeat(" ", 1<<20) + "x" + strings.Repeat(" ", 1<<20)
	_, err := policy.ParseVersion(in)
	if err == nil {
		t.Fatal("want an error")
	}
	if len(err.Error()) > 200 {
		t.Errorf("error is %d bytes long", len(err.Error()))
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"17.4", "17.4.0", 0},
		{"17.4", "17.4.0.0.0", 0},
		{"v17.4", "17.4", 0},
		{" 17.4 ", "17.4", 0},
		{"017.04", "17.4", 0},
		{"17.4.1", "17.4", 1},
		{"17.4.1", "17.5", -1},
		{"17.10", "17.9", 1}, // numeric, not lexical
		{"14", "13.9.9", 1},
		{"14", "14.0.1", -1},
		{"13.0.0_r1", "13", 1},      // vendor build sorts after the bare version
		{"13.0.0_r1", "13.0.1", -1}, // but before the next release
		{"13.0.0_r2", "13.0.0_r1", 1},
		{"13.0.0_r10", "13.0.0_r9", 1}, // natural order inside suffixes
		{"14.1-beta2", "14.1", -1},     // pre-release sorts before the release
		{"14.1-beta2", "14.0.9", 1},    // but after the previous release
		{"14.1-beta10", "14.1-beta2", 1},
		{"14.1-alpha", "14.1-beta", -1},
		{"14.1-rc1", "14.1-beta9", 1},
		{"18.0b3", "18.0", -1},
		{"14.1-beta2", "14.1_r1", -1},
		{"2.1+45", "2.1", 1},
		{"13.0.0_r01", "13.0.0_r1", -1}, // distinct suffixes never compare equal: ties break byte by byte
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			got, err := policy.CompareVersions(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			back, _ := policy.CompareVersions(tt.b, tt.a)
			if back != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, back, -tt.want)
			}
		})
	}
}

func TestCompareVersionsRefusesGarbage(t *testing.T) {
	if _, err := policy.CompareVersions("17.4", "latest"); err == nil {
		t.Error("CompareVersions with garbage on the right: want an error")
	}
	if _, err := policy.CompareVersions("", "17.4"); err == nil {
		t.Error("CompareVersions with garbage on the left: want an error")
	}
}

func TestPreReleaseClassification(t *testing.T) {
	tests := map[string]bool{
		"14.1-beta2": true, "18.0b3": true, "1.0-RC1": true, "1.0~dev": true, "1.0-alpha.1": true,
		"13.0.0_r1": false, "14.1": false, "2.1+45": false, "1.0-r1": false, "1.0-build7": false,
	}
	for in, want := range tests {
		if got := policy.MustParseVersion(in).PreRelease(); got != want {
			t.Errorf("%q PreRelease() = %v, want %v", in, got, want)
		}
	}
}

func TestParsePatchDate(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-10-05", time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)},
		{" 2026-10-05 ", time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)},
		{"2026-10", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := policy.ParsePatchDate(tt.in)
		if err != nil {
			t.Errorf("ParsePatchDate(%q): %v", tt.in, err)
			continue
		}
		if !got.Equal(tt.want) {
			t.Errorf("ParsePatchDate(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestParsePatchDateRefusesGarbage(t *testing.T) {
	for _, in := range []string{"", "2026", "2026-13-01", "2026-02-30", "26-10-05", "2026/10/05", "2026-10-05T00:00:00Z", "yesterday", "2026-1-5"} {
		if d, err := policy.ParsePatchDate(in); err == nil {
			t.Errorf("ParsePatchDate(%q) = %v, want an error", in, d)
		}
	}
}
