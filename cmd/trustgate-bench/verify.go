package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
)

// runVerify measures complete inline verifications per second on SQLite
// and, when a PostgreSQL server is given, on PostgreSQL.
func runVerify(ctx context.Context, b *bench) (*table, error) {
	o := b.opts
	users := max(o.verifyUsers, o.verifyWorkers)
	t := &table{
		title: fmt.Sprintf("verification throughput: %d users with an activated device, %d at once, %s per storage",
			users, o.verifyWorkers, o.verifyDuration),
		header: []string{"storage", "verifications", "per s", "p50", "p99", "server CPU/verification", "errors"},
	}
	stores := []string{"sqlite"}
	if o.postgres != "" {
		stores = append(stores, "postgres")
	}
	for _, name := range stores {
		st := sqliteStorage(b.serverDir("verify-sqlite") + "/tg.db")
		if name == "postgres" {
			dsn, drop, err := freshDatabase(ctx, o.postgres)
			if err != nil {
				return nil, err
			}
			defer drop()
			st = postgresStorage(dsn)
		}
		if err := verifyOn(ctx, b, st, users, t); err != nil {
			// The storages done so far still print.
			return t, fmt.Errorf("on %s: %w", name, err)
		}
	}
	if o.postgres == "" {
		t.note("postgres: not run (give -postgres or TRUSTGATE_TEST_POSTGRES)")
	} else {
		t.note("server CPU is the gateway's alone: SQLite runs inside it, PostgreSQL's own processes are not counted")
	}
	t.note("a verification: protected URL → sign-in form → users-file login (bcrypt cost 4) → prompt → signed health report → approval → return link → upstream page: 6 browser and 2 device requests")
	t.note("targets: ≥ 500 verifications/s on SQLite with durable auth-log writes, ≤ 2 ms server CPU per verification")
	return t, nil
}

// verifyOn runs the verification load against one gateway on st.
func verifyOn(ctx context.Context, b *bench, st storage, users int, t *table) error {
	o := b.opts
	srv, err := b.startGated("verify-"+st.name, st)
	if err != nil {
		return err
	}
	defer srv.stop()
	phones := phones(users)
	defer closePhones(phones)
	devices, err := activateDevices(ctx, srv, phones, o.verifyWorkers)
	if err != nil {
		return fmt.Errorf("activating devices: %w\nserver log:\n%s", err, srv.logTail())
	}
	workers := make([]*verifyWorker, o.verifyWorkers)
	for w := range workers {
		workers[w] = &verifyWorker{srv: srv, devices: devices, phones: phones, index: w, stride: o.verifyWorkers}
	}
	// Warm-up: one verification per worker, not measured.
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.one(ctx, false) })
	}
	wg.Wait()
	for _, w := range workers {
		if w.firstErr != nil {
			return fmt.Errorf("warm-up verification: %w\nserver log:\n%s", w.firstErr, srv.logTail())
		}
		w.failed = 0
	}

	cpu0, err := srv.cpu()
	if err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(o.verifyDuration)
	for _, w := range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				w.one(ctx, true)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, err := srv.cpu()
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var (
		done, failed int
		lat          latencies
		firstErr     error
	)
	for _, w := range workers {
		done += w.done
		failed += w.failed
		lat = append(lat, w.latency...)
		if firstErr == nil {
			firstErr = w.firstErr
		}
	}
	t.add(st.name, strconv.Itoa(done), fmt.Sprintf("%.1f", float64(done)/elapsed.Seconds()),
		ms(lat.percentile(50)), ms(lat.percentile(99)), ms(perRequest(cpu1-cpu0, done)), strconv.Itoa(failed))
	if firstErr != nil {
		t.note("%s: %d failed verifications, first: %v", st.name, failed, firstErr)
	}
	return nil
}

// verifyWorker does complete verifications one after another, for users
// index, index+stride, … in turn.
type verifyWorker struct {
	srv     *server
	devices []*agent.Agent
	phones  []*http.Transport
	index   int
	stride  int
	next    int

	done, failed int
	latency      latencies
	firstErr     error
}

// one runs a verification by the worker's next user, in a fresh browser.
func (w *verifyWorker) one(ctx context.Context, record bool) {
	user := w.index + w.next*w.stride
	if user >= len(w.devices) {
		w.next, user = 0, w.index
	}
	w.next++
	began := time.Now()
	err := verifyInline(ctx, w.srv, newBrowser(w.phones[user]), w.devices[user], userName(user))
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		w.failed++
		if w.firstErr == nil {
			w.firstErr = fmt.Errorf("%s: %w", userName(user), err)
		}
		return
	}
	if record {
		w.done++
		w.latency = append(w.latency, time.Since(began))
	}
}
