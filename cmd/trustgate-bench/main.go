package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/proc"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/table"
)

// options are the command's flags.
type options struct {
	runs     []string
	keep     bool
	warmup   time.Duration
	workers  int
	duration time.Duration
	rounds   int
	// pacedRate is the offered load of the hot run's paced stretches.
	pacedRate float64

	verifyUsers    int
	verifyWorkers  int
	verifyDuration time.Duration
	postgres       string

	pending         int
	pendingParallel int
	hold            time.Duration
	poll            time.Duration
	openTimeout     time.Duration
	browserConns    int
}

// knownRuns are the runs -runs may name, in the order they run.
var knownRuns = []string{"hot", "verify", "pending"}

func parseOptions(args []string, errOut io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("trustgate-bench", flag.ContinueOnError)
	fs.SetOutput(errOut)
	runs := fs.String("runs", strings.Join(knownRuns, ","), "the runs to do, comma-separated: hot, verify, pending")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, databases, server logs)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured load before each measured stretch")
	fs.IntVar(&o.workers, "workers", 32, "hot: concurrent keep-alive workers")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "hot: measured time per configuration and round")
	fs.Float64Var(&o.pacedRate, "paced-rate", 0, "hot: requests per second offered to each configuration in the paced stretches (0: 60% of plain Caddy's saturated rate)")
	fs.IntVar(&o.rounds, "rounds", 4, "hot: rounds of plain Caddy then trustgate, alternating to spread drift")
	fs.IntVar(&o.verifyUsers, "verify-users", 256, "verify: users, each with an activated device (enough that no device asks more than a few times a second)")
	fs.IntVar(&o.verifyWorkers, "verify-workers", 16, "verify: concurrent complete verifications")
	fs.DurationVar(&o.verifyDuration, "verify-duration", 10*time.Second, "verify: measured time per storage")
	// The environment is read after parsing, so that -h never prints a
	// connection string (with its password) as the default.
	fs.StringVar(&o.postgres, "postgres", "",
		"verify: a PostgreSQL server URL whose role may create databases (default $TRUSTGATE_TEST_POSTGRES; neither: SQLite only)")
	fs.IntVar(&o.pending, "pending", 10000, "pending: verifications held pending at once")
	fs.IntVar(&o.pendingParallel, "pending-parallel", 32, "pending: sign-ins in flight while opening, and activations (at most 6) while setting up")
	fs.DurationVar(&o.hold, "hold", 10*time.Second, "pending: how long every verification is held pending and measured")
	fs.DurationVar(&o.openTimeout, "open-timeout", 4*time.Minute, "pending: stop opening new verifications after this long (a check expires after 10 minutes)")
	fs.IntVar(&o.browserConns, "browser-conns", 0, "pending: keep-alive connections the waiting browsers keep (0: one each, or as many as the open-files limit allows beside the long-polls, shared)")
	fs.DurationVar(&o.poll, "poll", time.Second, "pending: how often a waiting browser polls its status (the prompt's script: 1s); 0: it only keeps its connection open")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.postgres == "" {
		o.postgres = os.Getenv("TRUSTGATE_TEST_POSTGRES")
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q (every setting is a flag; see -h)", fs.Args())
	}
	for r := range strings.SplitSeq(*runs, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if !slices.Contains(knownRuns, r) {
			return o, fmt.Errorf("-runs: unknown run %q (want %s)", r, strings.Join(knownRuns, ", "))
		}
		o.runs = append(o.runs, r)
	}
	if len(o.runs) == 0 {
		return o, fmt.Errorf("-runs names no run")
	}
	if o.workers < 1 || o.verifyWorkers < 1 || o.pendingParallel < 1 || o.rounds < 1 || o.pending < 1 || o.verifyUsers < 1 {
		return o, fmt.Errorf("workers, rounds, users and pending counts must be at least 1")
	}
	if o.pacedRate < 0 || o.browserConns < 0 {
		return o, fmt.Errorf("-paced-rate and -browser-conns must not be negative (0 picks them automatically)")
	}
	return o, nil
}

func main() {
	if gateway.IsServeInvocation() {
		gateway.Serve()
		return
	}
	o, err := parseOptions(os.Args[1:], os.Stderr)
	if err != nil {
		if err != flag.ErrHelp {
			fmt.Fprintln(os.Stderr, "trustgate-bench:", err)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := benchmark(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "trustgate-bench:", err)
		os.Exit(1)
	}
}

// benchmark does the selected runs and prints their tables to out.
func benchmark(ctx context.Context, o options, out io.Writer) error {
	b, err := newBench(o)
	if err != nil {
		return err
	}
	defer b.close()
	fmt.Fprintf(out, "trustgate-bench: %d CPUs (%s/%s), %s, load average %s at start\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), proc.LoadAverage())
	if o.keep {
		fmt.Fprintf(out, "files in %s\n", b.dir)
	}
	for _, name := range o.runs {
		var t *table.Table
		switch name {
		case "hot":
			t, err = runHot(ctx, b)
		case "verify":
			t, err = runVerify(ctx, b)
		case "pending":
			t, err = runPending(ctx, b)
		}
		if t != nil && len(t.Rows) > 0 {
			t.Note("load average after the run: %s (it counts the bench's own threads too)", proc.LoadAverage())
			t.Print(out)
		}
		if err != nil {
			return fmt.Errorf("%s run: %w", name, err)
		}
	}
	return nil
}
