package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"
)

// hotTarget is one configuration of the hot-path run and its totals.
type hotTarget struct {
	label string
	srv   *server
	gen   *loadGenerator
	total loadResult
	cpu   time.Duration
	// benchCPU is this process's CPU (load generator and upstream) over
	// the stretches being totalled.
	benchCPU time.Duration
}

// runHot compares the signed-in, trusted request path of trustgate with
// plain Caddy proxying to the same upstream.
func runHot(ctx context.Context, b *bench) (*table, error) {
	o := b.opts
	plain, err := b.startPlain("hot-plain")
	if err != nil {
		return nil, err
	}
	defer plain.stop()
	gated, err := b.startGated("hot-trustgate", sqliteStorage(b.serverDir("hot-trustgate")+"/tg.db"), "")
	if err != nil {
		return nil, err
	}
	defer gated.stop()

	cookie, err := trustedSession(ctx, gated)
	if err != nil {
		return nil, fmt.Errorf("getting a trusted session through the real flow: %w\nserver log:\n%s", err, gated.logTail())
	}
	h := &hotRun{
		ctx:   ctx,
		gated: gated,
		targets: []*hotTarget{
			{label: "A plain caddy", srv: plain, gen: newLoadGenerator(plain.url+"/", "", o.workers)},
			{label: "B trustgate", srv: gated, gen: newLoadGenerator(gated.url+"/", cookie, o.workers)},
		},
		t: &table{
			title:  fmt.Sprintf("hot path: %d workers, keep-alive, %s per round after %s warm-up", o.workers, o.duration, o.warmup),
			header: []string{"config", "round", "requests", "req/s", "p50", "p99", "server CPU/req", "bench CPU/req", "errors"},
		},
	}
	if err := h.saturated(o); err != nil {
		return nil, err
	}
	a, bb := h.targets[0], h.targets[1]
	if a.total.requests == 0 || bb.total.requests == 0 {
		return h.t, fmt.Errorf("a configuration answered no request")
	}
	rateA := float64(a.total.requests) / a.total.elapsed.Seconds()
	rateB := float64(bb.total.requests) / bb.total.elapsed.Seconds()

	// The same offered load to both, below saturation: the CPU a request
	// costs, without the slower server also batching fewer requests per
	// wake-up than the faster one.
	paced := o.pacedRate
	if paced <= 0 {
		paced = math.Round(rateA * 0.6)
	}
	pacedTotal, pacedCPU, err := h.paced(o, paced)
	if err != nil {
		return nil, err
	}
	t := h.t
	t.note("B/A req/s at saturation: %.3f (target ≥ 0.95)", rateB/rateA)
	t.note("server CPU added by trustgate at the same offered load (%.0f req/s to each, paced): %s per request (target ≤ 10 µs)",
		paced, micros(perRequest(pacedCPU[1], pacedTotal[1].requests)-perRequest(pacedCPU[0], pacedTotal[0].requests)))
	t.note("server CPU added at saturation: %s per request (the slower server also batches fewer requests per wake-up)",
		micros(perRequest(bb.cpu, bb.total.requests)-perRequest(a.cpu, a.total.requests)))
	t.note("storage calls during trustgate's %d measured requests: %.0f (%s, from admin /metrics; target 0)",
		bb.total.requests+pacedTotal[1].requests, h.storeCalls, storeCallsMetric)
	t.note("server CPU is the gateway process's utime+stime from /proc, in 10 ms ticks; bench CPU is this process's, where the load generator and the upstream run, on the same two cores: at saturation req/s follows the sum of both")
	t.note("B's requests carry one session made by the real flow (users-file sign-in, device check answered by the reference agent)")
	return t, nil
}

// storeCallsMetric counts the storage calls made while serving the
// signed-in requests: it must not move during trustgate's measured
// stretches.
const storeCallsMetric = "caddy_trusted_endpoints_store_calls_total"

// hotRun is one hot-path comparison under way: its two targets, the table
// it fills and the storage calls trustgate made while measured.
type hotRun struct {
	ctx        context.Context
	gated      *server
	targets    []*hotTarget
	t          *table
	storeCalls float64
}

// saturated runs o.rounds rounds of each target at full load, after a
// warm-up each, and adds a row per round and one of the totals.
func (h *hotRun) saturated(o options) error {
	for round := 1; round <= o.rounds; round++ {
		for _, tg := range h.targets {
			tg.gen.run(h.ctx, o.warmup, false)
			res, cpu, err := h.measure(tg, strconv.Itoa(round), func() loadResult { return tg.gen.run(h.ctx, o.duration, true) })
			if err != nil {
				return err
			}
			tg.total.add(res)
			tg.cpu += cpu
		}
	}
	for _, tg := range h.targets {
		addHotRow(h.t, tg.label, "all", tg.total, tg.cpu, tg.benchCPU)
		tg.benchCPU = 0
	}
	return nil
}

// paced runs o.rounds rounds of each target at the offered load rate and
// returns the totals and server CPU of each.
func (h *hotRun) paced(o options, rate float64) ([2]loadResult, [2]time.Duration, error) {
	var total [2]loadResult
	var cpus [2]time.Duration
	for round := 1; round <= o.rounds; round++ {
		for i, tg := range h.targets {
			res, cpu, err := h.measure(tg, "paced "+strconv.Itoa(round), func() loadResult { return tg.gen.runPaced(h.ctx, o.duration, rate) })
			if err != nil {
				return total, cpus, err
			}
			total[i].add(res)
			cpus[i] += cpu
		}
	}
	for i, tg := range h.targets {
		addHotRow(h.t, tg.label, "paced all", total[i], cpus[i], tg.benchCPU)
		tg.gen.close()
	}
	return total, cpus, nil
}

// measure runs one measured stretch of tg's load, adds its row and
// returns it with the server CPU it took.
func (h *hotRun) measure(tg *hotTarget, round string, drive func() loadResult) (loadResult, time.Duration, error) {
	var calls0 float64
	self0, err := processCPU(os.Getpid())
	if err != nil {
		return loadResult{}, 0, err
	}
	if tg.srv == h.gated {
		if calls0, err = h.gated.metricSum(storeCallsMetric); err != nil {
			return loadResult{}, 0, err
		}
	}
	cpu0, err := tg.srv.cpu()
	if err != nil {
		return loadResult{}, 0, err
	}
	res := drive()
	cpu1, err := tg.srv.cpu()
	if err != nil {
		return loadResult{}, 0, err
	}
	self1, err := processCPU(os.Getpid())
	if err != nil {
		return loadResult{}, 0, err
	}
	tg.benchCPU += self1 - self0
	if tg.srv == h.gated {
		calls1, err := h.gated.metricSum(storeCallsMetric)
		if err != nil {
			return loadResult{}, 0, err
		}
		h.storeCalls += calls1 - calls0
	}
	if h.ctx.Err() != nil {
		return loadResult{}, 0, h.ctx.Err()
	}
	addHotRow(h.t, tg.label, round, res, cpu1-cpu0, self1-self0)
	if res.firstErr != nil {
		h.t.note("%s round %s: %d errors, first: %v", tg.label, round, res.errors, res.firstErr)
	}
	return res, cpu1 - cpu0, nil
}

func addHotRow(t *table, label, round string, r loadResult, cpu, benchCPU time.Duration) {
	rate := 0.0
	if r.elapsed > 0 {
		rate = float64(r.requests) / r.elapsed.Seconds()
	}
	t.add(label, round, strconv.Itoa(r.requests), fmt.Sprintf("%.0f", rate),
		ms(r.latency.percentile(50)), ms(r.latency.percentile(99)),
		micros(perRequest(cpu, r.requests)), micros(perRequest(benchCPU, r.requests)), strconv.Itoa(r.errors))
}

// perRequest divides a CPU time among n requests.
func perRequest(cpu time.Duration, n int) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

// trustedSession signs user 0 in through the real flow, device check and
// all, and returns the session's Cookie header.
func trustedSession(ctx context.Context, srv *server) (string, error) {
	phone := phones(1)
	defer closePhones(phone)
	dev, err := activateDevice(ctx, srv, userName(0), &http.Client{Transport: phone[0], Timeout: 30 * time.Second})
	if err != nil {
		return "", err
	}
	br := newBrowser(phone[0])
	if err := verifyInline(ctx, srv, br, dev, userName(0)); err != nil {
		return "", err
	}
	return br.sessionCookies(srv.url)
}
