package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the bench binary: the bench
// starts its servers by running itself with serveCommand.
func TestMain(m *testing.M) {
	if isServeInvocation() {
		serveCaddy()
		return
	}
	os.Exit(m.Run())
}

// tinyOptions are every run at a size that only proves the command works.
func tinyOptions(runs ...string) options {
	return options{
		runs: runs, warmup: 200 * time.Millisecond,
		workers: 2, duration: time.Second, rounds: 1,
		verifyUsers: 16, verifyWorkers: 2, verifyDuration: time.Second,
		postgres: os.Getenv("TRUSTGATE_TEST_POSTGRES"),
		pending:  20, pendingParallel: 4, hold: time.Second, poll: 200 * time.Millisecond, openTimeout: time.Minute,
	}
}

func newTinyBench(t *testing.T, runs ...string) *bench {
	t.Helper()
	if testing.Short() {
		t.Skip("runs gateway processes; skipped in -short mode")
	}
	b, err := newBench(tinyOptions(runs...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.close)
	return b
}

// column returns the cells of the named column.
func column(t *testing.T, tb *table, name string) []string {
	t.Helper()
	for i, h := range tb.header {
		if h == name {
			var cells []string
			for _, r := range tb.rows {
				cells = append(cells, r[i])
			}
			return cells
		}
	}
	t.Fatalf("table %q has no column %q", tb.title, name)
	return nil
}

// value returns the value of the measure row named name.
func value(t *testing.T, tb *table, name string) string {
	t.Helper()
	for _, r := range tb.rows {
		if r[0] == name {
			return r[1]
		}
	}
	t.Fatalf("table %q has no row %q", tb.title, name)
	return ""
}

func printed(tb *table) string {
	var out bytes.Buffer
	tb.print(&out)
	return out.String()
}

func TestHotRunComparesPlainCaddyWithTrustgateWithoutErrors(t *testing.T) {
	b := newTinyBench(t, "hot")
	tb, err := runHot(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"A plain caddy", "B trustgate", "A plain caddy", "B trustgate"}
	if got := column(t, tb, "config"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", got, want)
	}
	for i, e := range column(t, tb, "errors") {
		if e != "0" {
			t.Errorf("row %d: %s errors\n%s", i, e, printed(tb))
		}
	}
	for i, n := range column(t, tb, "requests") {
		if n == "0" {
			t.Errorf("row %d: no request got through\n%s", i, printed(tb))
		}
	}
	if out := printed(tb); !strings.Contains(out, "B/A req/s") || !strings.Contains(out, "per request") {
		t.Errorf("no ratio or CPU figure:\n%s", out)
	}
}

func TestVerifyRunCompletesVerificationsWithoutErrors(t *testing.T) {
	b := newTinyBench(t, "verify")
	tb, err := runVerify(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	want := 1
	if b.opts.postgres != "" {
		want = 2
	}
	if len(tb.rows) != want {
		t.Fatalf("%d rows, want %d\n%s", len(tb.rows), want, printed(tb))
	}
	for i, r := range tb.rows {
		if column(t, tb, "errors")[i] != "0" || column(t, tb, "verifications")[i] == "0" {
			t.Errorf("%s: %v\n%s", r[0], r, printed(tb))
		}
	}
}

func TestPendingRunHoldsEveryVerificationWithoutErrors(t *testing.T) {
	b := newTinyBench(t, "pending")
	tb, err := runPending(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"pending verifications opened":                 "20 of 20",
		"errors opening":                               "0",
		"poll errors before the hold":                  "0",
		"errors while held":                            "0",
		"browsers still seeing \"waiting\" at the end": "20 of 20",
	}
	for row, want := range checks {
		if got := value(t, tb, row); got != want {
			t.Errorf("%s: %s, want %s\n%s", row, got, want, printed(tb))
		}
	}
	if !strings.HasSuffix(value(t, tb, "RSS per pending verification"), "KiB") {
		t.Errorf("no memory figure\n%s", printed(tb))
	}
}

func TestParseOptionsRefusesUnknownRun(t *testing.T) {
	var errOut bytes.Buffer
	if _, err := parseOptions([]string{"-runs", "hot,warp"}, &errOut); err == nil || !strings.Contains(err.Error(), `"warp"`) {
		t.Fatalf("err = %v, want one naming the unknown run", err)
	}
	o, err := parseOptions([]string{"-runs", "pending", "-pending", "5"}, &errOut)
	if err != nil || len(o.runs) != 1 || o.pending != 5 {
		t.Fatalf("parsed %+v, %v", o, err)
	}
}
