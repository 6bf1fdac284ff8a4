package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/table"
)

// TestMain lets the test binary stand in for the bench binary: the bench
// starts its servers by running itself as the gateway (see
// gateway.IsServeInvocation).
func TestMain(m *testing.M) {
	if gateway.IsServeInvocation() {
		gateway.Serve()
		return
	}
	os.Exit(m.Run())
}

// tinyOptions are every run at a size that only proves the command works.
func tinyOptions(runs ...string) options {
	return options{
		runs: runs, warmup: 200 * time.Millisecond,
		workers: 2, duration: time.Second, rounds: 1,
		// 64 users: at the few hundred checks a second a quiet machine
		// reaches, 16 sent each device past its rate limit (10/s).
		verifyUsers: 64, verifyWorkers: 2, verifyDuration: time.Second,
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
func column(t *testing.T, tb *table.Table, name string) []string {
	t.Helper()
	for i, h := range tb.Header {
		if h == name {
			var cells []string
			for _, r := range tb.Rows {
				cells = append(cells, r[i])
			}
			return cells
		}
	}
	t.Fatalf("table %q has no column %q", tb.Title, name)
	return nil
}

// value returns the value of the measure row named name.
func value(t *testing.T, tb *table.Table, name string) string {
	t.Helper()
	for _, r := range tb.Rows {
		if r[0] == name {
			return r[1]
		}
	}
	t.Fatalf("table %q has no row %q", tb.Title, name)
	return ""
}

// wantValues checks that each measure row of checks holds its value.
func wantValues(t *testing.T, tb *table.Table, checks map[string]string) {
	t.Helper()
	for row, want := range checks {
		if got := value(t, tb, row); got != want {
			t.Errorf("%s: %s, want %s\n%s", row, got, want, printed(tb))
		}
	}
}

func printed(tb *table.Table) string {
	var out bytes.Buffer
	tb.Print(&out)
	return out.String()
}

func TestHotRunComparesPlainCaddyWithTrustgateWithoutErrors(t *testing.T) {
	b := newTinyBench(t, "hot")
	tb, err := runHot(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	// One round at saturation, its totals, one paced round, its totals.
	want := []string{"A plain caddy", "B trustgate", "A plain caddy", "B trustgate",
		"A plain caddy", "B trustgate", "A plain caddy", "B trustgate"}
	if got := column(t, tb, "config"); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("rows %q, want %q", got, want)
	}
	wantRounds := []string{"1", "1", "all", "all", "paced 1", "paced 1", "paced all", "paced all"}
	if got := column(t, tb, "round"); strings.Join(got, "|") != strings.Join(wantRounds, "|") {
		t.Errorf("rounds %q, want %q", got, wantRounds)
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
	out := printed(tb)
	for _, figure := range []string{"B/A req/s", "at the same offered load", "per request", "storage calls during"} {
		if !strings.Contains(out, figure) {
			t.Errorf("no %q figure:\n%s", figure, out)
		}
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
	if len(tb.Rows) != want {
		t.Fatalf("%d rows, want %d\n%s", len(tb.Rows), want, printed(tb))
	}
	for i, r := range tb.Rows {
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
	wantValues(t, tb, checks)
	if !strings.HasSuffix(value(t, tb, "RSS per pending verification"), "KiB") {
		t.Errorf("no memory figure\n%s", printed(tb))
	}
}

// When the browsers share keep-alive connections (as they must when the
// open-files limit cannot hold two per pending verification), every
// browser still polls with its own cookies and sees its own check waiting,
// and the table says what was shared and what one connection costs.
func TestPendingRunWithSharedBrowserConnectionsSaysSo(t *testing.T) {
	b := newTinyBench(t, "pending")
	b.opts.browserConns = 5
	tb, err := runPending(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	checks := map[string]string{
		"pending verifications opened":                 "20 of 20",
		"browser connections":                          "20 browsers sharing 5 keep-alive connections (open-files limit; every phone its own long-poll)",
		"errors opening":                               "0",
		"errors while held":                            "0",
		"browsers still seeing \"waiting\" at the end": "20 of 20",
	}
	wantValues(t, tb, checks)
	if got := value(t, tb, "one idle browser connection (measured alone, 20 of them)"); !strings.Contains(got, "KiB Go heap+stack") {
		t.Errorf("idle connection: %s\n%s", got, printed(tb))
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
	for _, bad := range [][]string{{"-paced-rate", "-5"}, {"-browser-conns", "-1"}} {
		if _, err := parseOptions(bad, &errOut); err == nil || !strings.Contains(err.Error(), "must not be negative") {
			t.Errorf("%q: err = %v, want a refusal of the negative value", bad, err)
		}
	}
}
