package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These helpers read the README's shell commands, so that tests run them
// as a reader would type them.

// readmeSection returns the README's section under heading (a whole
// heading line, e.g. "### Try the whole flow on one machine") up to the
// next heading of any level outside a code block.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := -1
	for i, l := range lines {
		if l == heading {
			start = i + 1
			break
		}
	}
	if start < 0 {
		t.Fatalf("README has no section %q", heading)
	}
	inCode := false
	for i := start; i < len(lines); i++ {
		if strings.HasPrefix(lines[i], "```") {
			inCode = !inCode
		}
		if !inCode && strings.HasPrefix(lines[i], "#") {
			return strings.Join(lines[start:i], "\n")
		}
	}
	return strings.Join(lines[start:], "\n")
}

// shellCommands returns the commands of the ```sh blocks of text, each
// split into words as sh would: lines continued with a backslash joined,
// comments and blank lines left out, single and double quotes removed.
func shellCommands(t *testing.T, text string) [][]string {
	t.Helper()
	var cmds [][]string
	var inSh bool
	var pending string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case line == "```sh":
			inSh = true
			continue
		case strings.HasPrefix(line, "```"):
			inSh = false
			continue
		case !inSh:
			continue
		}
		line = strings.TrimSpace(line)
		if pending == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			pending += cont + " "
			continue
		}
		cmds = append(cmds, shellWords(t, pending+line))
		pending = ""
	}
	return cmds
}

// shellWords splits one command line into words: the quoting this README
// uses ('...' and "..." without escapes inside), no expansions.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case strings.ContainsRune("$`;|&<>*?\\", r):
			t.Fatalf("README command uses shell syntax this test does not run (%q): %s", r, line)
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in README command: %s", line)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// fillIn returns actual for a README argument that ends in "..." (a value
// the reader copies from an earlier answer), after checking that actual
// starts as the README shows it.
func fillIn(t *testing.T, arg, actual string) string {
	t.Helper()
	shown, ok := strings.CutSuffix(arg, "...")
	if !ok {
		t.Fatalf("README argument %q has no ... to fill in", arg)
	}
	if !strings.HasPrefix(actual, shown) {
		t.Fatalf("README shows %q, but the real value is %q", arg, actual)
	}
	return actual
}
