package policy

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits on version strings. A device reports its versions itself, so a
// hostile or broken one must not make parsing or comparison expensive.
const (
	maxVersionLen        = 64
	maxVersionComponents = 8
)

// preReleaseWords are the leading words of a suffix that mark a version as
// coming before its release (14.1-beta2 < 14.1). Matched case-insensitively.
var preReleaseWords = map[string]bool{
	"a": true, "alpha": true, "b": true, "beta": true, "rc": true,
	"pre": true, "preview": true, "dev": true, "snapshot": true, "canary": true,
}

// Version is a parsed operating system or app version: up to eight numeric
// components followed by an optional suffix.
//
// Components compare numerically and missing components count as zero, so
// 17.4 equals 17.4.0. A suffix orders the version against the bare numbers:
// a pre-release suffix (its first word is alpha, a, beta, b, rc, pre, preview,
// dev, snapshot or canary, as in 14.1-beta2 or 18.0b3) sorts before the bare
// version, and any other suffix, such as a vendor build (13.0.0_r1, 2.1+45),
// sorts after it. So 14.1-beta2 < 14.1 < 14.1_r1 < 14.2, and a device on
// 13.0.0_r1 meets a minimum of 13 while one on 14.1-beta2 does not meet 14.1.
// Two suffixes of the same kind compare in natural order (digit runs as
// numbers: beta2 < beta10), then byte by byte.
//
// The zero Version is 0.
type Version struct {
	parts  []uint32
	suffix string
}

// ParseVersion parses a version string such as "17.4.1", "14", "v2.3",
// "13.0.0_r1" or "14.1-beta2". Surrounding spaces and one leading "v" are
// ignored. It refuses empty strings, strings that do not start with a digit,
// strings longer than 64 bytes, more than 8 numeric components, components
// that do not fit in 32 bits and suffixes with characters other than letters,
// digits and ". _ - + ~".
func ParseVersion(s string) (Version, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return Version{}, errors.New("empty version")
	}
	if len(t) > maxVersionLen {
		return Version{}, fmt.Errorf("version longer than %d bytes", maxVersionLen)
	}
	if t[0] == 'v' || t[0] == 'V' {
		t = t[1:]
	}
	if t == "" || !isDigit(t[0]) {
		return Version{}, fmt.Errorf("version %q does not start with a digit", truncate(s))
	}
	var v Version
	i := 0
	for {
		j := i
		for j < len(t) && isDigit(t[j]) {
			j++
		}
		n, err := strconv.ParseUint(t[i:j], 10, 32)
		if err != nil {
			return Version{}, fmt.Errorf("version %q: component %q out of range", truncate(s), t[i:j])
		}
		if len(v.parts) == maxVersionComponents {
			return Version{}, fmt.Errorf("version %q has more than %d components", truncate(s), maxVersionComponents)
		}
		v.parts = append(v.parts, uint32(n))
		i = j
		if i+1 < len(t) && t[i] == '.' && isDigit(t[i+1]) {
			i++
			continue
		}
		break
	}
	if err := checkSuffix(t[i:]); err != nil {
		return Version{}, fmt.Errorf("version %q: %w", truncate(s), err)
	}
	v.suffix = t[i:]
	return v, nil
}

// MustParseVersion is like ParseVersion but panics on error; for constants
// in tests and defaults.
func MustParseVersion(s string) Version {
	v, err := ParseVersion(s)
	if err != nil {
		panic(err)
	}
	return v
}

func checkSuffix(s string) error {
	if s == "" {
		return nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && !isSeparator(c) {
			return fmt.Errorf("invalid character %q in suffix", c)
		}
	}
	if isSeparator(s[0]) && (len(s) < 2 || !isAlnum(s[1])) {
		return fmt.Errorf("suffix %q does not name anything", s)
	}
	return nil
}

// Major returns the first component.
func (v Version) Major() uint32 { return v.part(0) }

// Minor returns the second component, zero when absent.
func (v Version) Minor() uint32 { return v.part(1) }

// Patch returns the third component, zero when absent.
func (v Version) Patch() uint32 { return v.part(2) }

// Suffix returns what follows the numeric components, e.g. "_r1".
func (v Version) Suffix() string { return v.suffix }

// PreRelease reports whether the suffix marks a pre-release (see Version).
func (v Version) PreRelease() bool { return isPreRelease(v.suffix) }

func (v Version) part(i int) uint32 {
	if i < len(v.parts) {
		return v.parts[i]
	}
	return 0
}

// String formats v canonically: components without leading zeros, then the
// suffix. ParseVersion(v.String()) gives back a version equal to v.
func (v Version) String() string {
	var b strings.Builder
	if len(v.parts) == 0 {
		b.WriteString("0")
	}
	for i, p := range v.parts {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(uint64(p), 10))
	}
	b.WriteString(v.suffix)
	return b.String()
}

// canonical is String with trailing zero components dropped, so that
// versions that compare equal and differ only in how they were written
// (17.4 and 17.4.0) encode the same in the policy hash.
func (v Version) canonical() string {
	n := len(v.parts)
	for n > 1 && v.parts[n-1] == 0 {
		n--
	}
	return Version{parts: v.parts[:n], suffix: v.suffix}.String()
}

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w, in the
// order described on Version. It is a total order: Compare is 0 only when the
// components are equal (missing ones counting as zero) and the suffixes are
// identical.
func (v Version) Compare(w Version) int {
	n := max(len(v.parts), len(w.parts))
	for i := range n {
		if c := cmp.Compare(v.part(i), w.part(i)); c != 0 {
			return c
		}
	}
	if c := cmp.Compare(suffixRank(v.suffix), suffixRank(w.suffix)); c != 0 {
		return c
	}
	if c := naturalCompare(v.suffix, w.suffix); c != 0 {
		return c
	}
	return strings.Compare(v.suffix, w.suffix)
}

// AtLeast reports whether v is the same as or later than min.
func (v Version) AtLeast(min Version) bool { return v.Compare(min) >= 0 }

// CompareVersions parses a and b and compares them with Version.Compare.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	return va.Compare(vb), nil
}

func suffixRank(s string) int {
	switch {
	case s == "":
		return 0
	case isPreRelease(s):
		return -1
	default:
		return 1
	}
}

func isPreRelease(s string) bool {
	i := 0
	for i < len(s) && isSeparator(s[i]) {
		i++
	}
	j := i
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	return j > i && preReleaseWords[strings.ToLower(s[i:j])]
}

// naturalCompare compares a and b token by token, where a token is a run of
// digits or a run of other bytes. Digit runs compare as numbers (without
// converting, so no length overflows) and sort before other runs; other runs
// compare byte by byte. Equal numbers written differently (01, 1) tie here;
// Compare breaks the tie.
func naturalCompare(a, b string) int {
	for a != "" && b != "" {
		ta, ra := nextToken(a)
		tb, rb := nextToken(b)
		da, db := isDigit(ta[0]), isDigit(tb[0])
		var c int
		switch {
		case da && db:
			na, nb := strings.TrimLeft(ta, "0"), strings.TrimLeft(tb, "0")
			if c = cmp.Compare(len(na), len(nb)); c == 0 {
				c = strings.Compare(na, nb)
			}
		case da:
			c = -1
		case db:
			c = 1
		default:
			c = strings.Compare(ta, tb)
		}
		if c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmp.Compare(len(a), len(b))
}

func nextToken(s string) (token, rest string) {
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool     { return '0' <= c && c <= '9' }
func isLetter(c byte) bool    { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isAlnum(c byte) bool     { return isDigit(c) || isLetter(c) }
func isSeparator(c byte) bool { return c == '.' || c == '_' || c == '-' || c == '+' || c == '~' }

// ParsePatchDate parses an Android security patch level: "2026-10-05", or
// "2026-10" meaning the first of that month. Surrounding spaces are ignored;
// the result is midnight UTC.
func ParsePatchDate(s string) (time.Time, error) {
	t := strings.TrimSpace(s)
	layout := time.DateOnly
	if len(t) == len("2006-01") {
		layout = "2006-01"
	}
	if len(t) != len(layout) {
		return time.Time{}, fmt.Errorf("security patch %q is not a date like 2026-10-05", truncate(s))
	}
	d, err := time.Parse(layout, t)
	if err != nil {
		return time.Time{}, fmt.Errorf("security patch %q is not a date like 2026-10-05", truncate(s))
	}
	return d, nil
}

// truncate keeps error messages about device input short.
func truncate(s string) string {
	if len(s) > maxVersionLen {
		return s[:maxVersionLen] + "…"
	}
	return s
}
