package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
)

// updateGolden rewrites the expected JSON of every golden adapt file from
// what the adapter makes now: go test ./caddymodule -run TestCaddyfileAdapt -update
var updateGolden = flag.Bool("update", false, "rewrite the JSON of testdata/caddyfile_adapt/*.caddyfiletest")

// adaptSeparator divides a golden adapt file's Caddyfile from what it
// adapts to, as in Caddy's caddytest/integration/caddyfile_adapt.
const adaptSeparator = "----------"

// TestCaddyfileAdapt adapts the Caddyfile of each
// testdata/caddyfile_adapt/*.caddyfiletest and compares the JSON with the
// part after the separator line. An expected part that is not JSON is an
// error the adapter must give: each of its lines is a part of the message.
func TestCaddyfileAdapt(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "caddyfile_adapt", "*.caddyfiletest"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden adapt files (%v)", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			input, expected, ok := strings.Cut(string(data), "\n"+adaptSeparator+"\n")
			if !ok {
				t.Fatalf("no %s line", adaptSeparator)
			}
			input = strings.TrimSpace(input) + "\n"
			expected = strings.TrimSpace(expected)
			got, adaptErr := adaptCaddyfile(input)
			if expected != "" && !strings.HasPrefix(expected, "{") {
				refusedAsExpected(t, adaptErr, expected)
				return
			}
			if adaptErr != nil {
				t.Fatalf("adapting: %v", adaptErr)
			}
			if *updateGolden {
				rewritten := strings.TrimSpace(input) + "\n" + adaptSeparator + "\n" + got + "\n"
				if err := os.WriteFile(path, []byte(rewritten), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if got != expected {
				t.Errorf("adapted JSON differs from the golden file (rerun with -update if the change is meant):\n%s",
					lineDiff(expected, got))
			}
		})
	}
}

// refusedAsExpected checks that err contains each line of expected.
func refusedAsExpected(t *testing.T, err error, expected string) {
	t.Helper()
	if err == nil {
		t.Fatalf("adapted without an error, want one containing %q", expected)
	}
	for _, part := range strings.Split(expected, "\n") {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not contain %q", err, part)
		}
	}
}

// adaptCaddyfile adapts input and indents the JSON with tabs.
func adaptCaddyfile(input string) (string, error) {
	out, _, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(input), nil)
	if err != nil {
		return "", err
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, out, "", "\t"); err != nil {
		return "", err
	}
	return pretty.String(), nil
}

// lineDiff shows the lines of want and got from the first that differs,
// a few on each side.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	start := max(0, i-3)
	var b strings.Builder
	b.WriteString("want:\n")
	for _, l := range w[start:min(len(w), i+4)] {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("got:\n")
	for _, l := range g[start:min(len(g), i+4)] {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}
