package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
)

// FuzzParsePatchDate checks that a parsed security patch level is midnight
// UTC of a real date that formats back to the input (or to the first of the
// month for "2026-10"), and that a refusal stays short whatever the size of
// the input (it quotes only the start of it).
func FuzzParsePatchDate(f *testing.F) {
	for _, s := range []string{"2026-10-05", "2026-10", " 2026-10-05 ", "2026-02-30", "2026-13", "26-10-05", "", "2026-10-05T00:00", "९९९९-10-05"} {
		f.Add(s)
	}
	f.Add(strings.Repeat("2026-10-05", 1000))
	f.Fuzz(func(t *testing.T, s string) {
		d, err := policy.ParsePatchDate(s)
		if err != nil {
			if len(err.Error()) > 512 {
				t.Fatalf("error for %d-byte input is %d bytes long", len(s), len(err.Error()))
			}
			return
		}
		if d.Location() != time.UTC || d.Hour() != 0 || d.Minute() != 0 || d.Second() != 0 || d.Nanosecond() != 0 {
			t.Fatalf("ParsePatchDate(%q) = %v, want midnight UTC", s, d)
		}
		in := strings.TrimSpace(s)
		if got := d.Format(time.DateOnly); got != in && d.Format("2006-01") != in {
			t.Fatalf("ParsePatchDate(%q) = %s, which is another date", s, got)
		}
	})
}
