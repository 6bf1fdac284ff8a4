package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/browser"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loadgen"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loopback"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/table"
	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
)

// verifyTrustFor is the verify gateway's trust_for: short, so that the
// sessions the sign-in stretch leaves behind have lapsed device trust by
// the time the device-check stretch reuses them, and long enough that a
// fresh check's trust still holds for the upstream page that ends it.
const verifyTrustFor = 2 * time.Second

// runVerify measures complete inline verifications per second on SQLite
// and, when a PostgreSQL server is given, on PostgreSQL.
func runVerify(ctx context.Context, b *bench) (*table.Table, error) {
	o := b.opts
	users := max(o.verifyUsers, o.verifyWorkers)
	t := &table.Table{
		Title: fmt.Sprintf("verification throughput: %d users with an activated device, %d at once, %s per storage (and %s with sign-in)",
			users, o.verifyWorkers, o.verifyDuration, signInDuration(o.verifyDuration)),
		Header: []string{"storage", "verifications", "per s", "p50", "p99", "server CPU/verification", "errors",
			"with sign-in: per s", "CPU", "p50"},
	}
	stores := []string{"sqlite"}
	if o.postgres != "" {
		stores = append(stores, "postgres")
	}
	for _, name := range stores {
		st := gateway.SQLiteStorage(b.serverDir("verify-sqlite") + "/tg.db")
		if name == "postgres" {
			dsn, drop, err := gateway.FreshDatabase(ctx, o.postgres)
			if err != nil {
				return nil, err
			}
			defer drop()
			st = gateway.PostgresStorage(dsn)
		}
		if err := verifyOn(ctx, b, st, users, t); err != nil {
			// The storages done so far still print.
			return t, fmt.Errorf("on %s: %w", name, err)
		}
	}
	if o.postgres == "" {
		t.Note("postgres: not run (give -postgres or TRUSTGATE_TEST_POSTGRES)")
	} else {
		t.Note("server CPU is the gateway's alone: SQLite runs inside it, PostgreSQL's own processes are not counted")
	}
	t.Note("a verification (the issue's unit, from transaction created to session issued): a signed-in person whose device trust has lapsed opens the protected URL → prompt (transaction created) → signed health report → approval → return link → upstream page: 4 browser and 2 device requests; the sign-in is not in it")
	t.Note("with sign-in: the same check after a users-file sign-in (bcrypt cost 4) in a fresh browser, as a person without a session does it: 6 browser and 2 device requests; measured over its own, shorter stretch before the other")
	t.Note("errors counts failures in both stretches")
	t.Note("targets: ≥ 500 verifications/s on SQLite with durable auth-log writes, ≤ 2 ms server CPU per verification")
	return t, nil
}

// signInDuration is how long the stretch with sign-in is measured: shorter
// than the main one, as it is there for comparison.
func signInDuration(d time.Duration) time.Duration { return max(d/2, 500*time.Millisecond) }

// verifyOn runs the verification load against one gateway on st: first a
// stretch of sign-ins with their device check, which leaves every user
// with a session, then, once those sessions' device trust has lapsed, a
// stretch of device checks alone.
func verifyOn(ctx context.Context, b *bench, st gateway.Storage, users int, t *table.Table) error {
	o := b.opts
	srv, err := b.startGated("verify-"+st.Name, st, verifyTrustFor.String())
	if err != nil {
		return err
	}
	defer srv.Stop()
	phones := loopback.Phones(users)
	defer loopback.CloseIdle(phones)
	devices, err := activateDevices(ctx, srv, phones, o.verifyWorkers)
	if err != nil {
		return fmt.Errorf("activating devices: %w\nserver log:\n%s", err, srv.LogTail())
	}
	sessions := make([][]*http.Cookie, users)
	workers := make([]*verifyWorker, o.verifyWorkers)
	for w := range workers {
		workers[w] = &verifyWorker{srv: srv, devices: devices, phones: phones, sessions: sessions, index: w, stride: o.verifyWorkers}
	}

	full := func(ctx context.Context, w *verifyWorker) error { return w.signInAndCheck(ctx) }
	if err := warmUp(ctx, srv, workers, full); err != nil {
		return err
	}
	withSignIn, err := measure(ctx, srv, workers, signInDuration(o.verifyDuration), full)
	if err != nil {
		return err
	}
	if err := lapsedSessions(ctx, srv, workers); err != nil {
		return err
	}

	check := func(ctx context.Context, w *verifyWorker) error { return w.checkAgain(ctx) }
	if err := warmUp(ctx, srv, workers, check); err != nil {
		return err
	}
	alone, err := measure(ctx, srv, workers, o.verifyDuration, check)
	if err != nil {
		return err
	}
	addVerifyRow(t, st.Name, alone, withSignIn)
	return nil
}

// lapsedSessions gives every user a session (the stretch with sign-in
// reached only some), then waits until their device trust has lapsed.
func lapsedSessions(ctx context.Context, srv *gateway.Server, workers []*verifyWorker) error {
	for _, w := range workers {
		for user := w.index; user < len(w.sessions); user += w.stride {
			if w.sessions[user] != nil {
				continue
			}
			if err := w.signInAs(ctx, user); err != nil {
				return fmt.Errorf("signing in %s: %w\nserver log:\n%s", userName(user), err, srv.LogTail())
			}
		}
	}
	// The last session issued lapses verifyTrustFor after it was issued
	// (the cookie keeps whole seconds, rounded down).
	select {
	case <-time.After(verifyTrustFor + 100*time.Millisecond):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addVerifyRow adds storage's row: the device checks alone, then the
// stretch with sign-in; a note under the table gives each stretch's first
// failure.
func addVerifyRow(t *table.Table, storage string, alone, withSignIn stretch) {
	t.Add(storage, strconv.Itoa(alone.done), fmt.Sprintf("%.1f", alone.perSecond()),
		table.Millis(alone.latency.Percentile(50)), table.Millis(alone.latency.Percentile(99)), table.Millis(perRequest(alone.cpu, alone.done)),
		strconv.Itoa(alone.failed+withSignIn.failed),
		fmt.Sprintf("%.1f", withSignIn.perSecond()), table.Millis(perRequest(withSignIn.cpu, withSignIn.done)),
		table.Millis(withSignIn.latency.Percentile(50)))
	for _, s := range []struct {
		what string
		r    stretch
	}{{"device check", alone}, {"with sign-in", withSignIn}} {
		if s.r.firstErr != nil {
			t.Note("%s, %s: %d failed verifications, first: %v", storage, s.what, s.r.failed, s.r.firstErr)
		}
	}
}

// verification is one verification a worker runs.
type verification func(ctx context.Context, w *verifyWorker) error

// warmUp runs one verification per worker, not measured; any failure
// stops the run.
func warmUp(ctx context.Context, srv *gateway.Server, workers []*verifyWorker, run verification) error {
	errs := make([]error, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() { errs[i] = run(ctx, w) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("warm-up verification: %w\nserver log:\n%s", err, srv.LogTail())
		}
	}
	return nil
}

// stretch is what one measured stretch of verifications came to.
type stretch struct {
	done, failed int
	latency      loadgen.Latencies
	firstErr     error
	elapsed      time.Duration
	cpu          time.Duration // the gateway's
}

func (s stretch) perSecond() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.done) / s.elapsed.Seconds()
}

// measure runs verifications on every worker, one after another, for d,
// and counts them and the gateway's CPU time.
func measure(ctx context.Context, srv *gateway.Server, workers []*verifyWorker, d time.Duration, run verification) (stretch, error) {
	var s stretch
	cpu0, err := srv.CPU()
	if err != nil {
		return s, err
	}
	results := make([]stretch, len(workers))
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			r := &results[i]
			for time.Now().Before(deadline) && ctx.Err() == nil {
				began := time.Now()
				err := run(ctx, w)
				switch {
				case err == nil:
					r.done++
					r.latency = append(r.latency, time.Since(began))
				case ctx.Err() != nil:
				default:
					r.failed++
					if r.firstErr == nil {
						r.firstErr = err
					}
				}
			}
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	cpu1, err := srv.CPU()
	if err != nil {
		return s, err
	}
	if ctx.Err() != nil {
		return s, ctx.Err()
	}
	s.cpu = cpu1 - cpu0
	for _, r := range results {
		s.done += r.done
		s.failed += r.failed
		s.latency = append(s.latency, r.latency...)
		if s.firstErr == nil {
			s.firstErr = r.firstErr
		}
	}
	return s, nil
}

// verifyWorker does verifications one after another, for users index,
// index+stride, … in turn.
type verifyWorker struct {
	srv     *gateway.Server
	devices []*agent.Agent
	phones  []*http.Transport
	// sessions are the cookies of each user's last sign-in: the worker
	// writes only its own users'.
	sessions [][]*http.Cookie
	index    int
	stride   int
	next     int
}

// nextUser returns the worker's next user.
func (w *verifyWorker) nextUser() int {
	user := w.index + w.next*w.stride
	if user >= len(w.devices) {
		w.next, user = 0, w.index
	}
	w.next++
	return user
}

// signInAndCheck runs a verification with sign-in by the worker's next
// user, in a fresh browser.
func (w *verifyWorker) signInAndCheck(ctx context.Context) error {
	return w.signInAs(ctx, w.nextUser())
}

// signInAs runs a verification with sign-in by user, in a fresh browser,
// and keeps the session it ends with.
func (w *verifyWorker) signInAs(ctx context.Context, user int) error {
	br := browser.New(w.phones[user])
	if err := verifyInline(ctx, w.srv, br, w.devices[user], userName(user)); err != nil {
		return fmt.Errorf("%s: %w", userName(user), err)
	}
	cookies, err := br.Cookies(w.srv.URL)
	if err != nil {
		return err
	}
	w.sessions[user] = cookies
	return nil
}

// checkAgain runs the device check alone by the worker's next user: a
// fresh browser holding the user's session, whose device trust has
// lapsed. The session the check ends with is dropped, so the kept one
// stays lapsed.
func (w *verifyWorker) checkAgain(ctx context.Context) error {
	user := w.nextUser()
	br := browser.New(w.phones[user])
	if err := br.SetCookies(w.srv.URL, w.sessions[user]); err != nil {
		return err
	}
	if err := verifyLapsed(ctx, w.srv, br, w.devices[user]); err != nil {
		return fmt.Errorf("%s: %w", userName(user), err)
	}
	return nil
}
