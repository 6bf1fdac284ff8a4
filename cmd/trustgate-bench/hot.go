package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/browser"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loadgen"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loopback"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/proc"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/table"
)

// hotTarget is one configuration of the hot-path run and its totals.
type hotTarget struct {
	label string
	srv   *gateway.Server
	gen   *loadgen.Generator
	total loadgen.Result
	cpu   time.Duration
	// benchCPU is this process's CPU (load generator and upstream) over
	// the stretches being totalled.
	benchCPU time.Duration
}

// runHot compares the signed-in, trusted request path of trustgate with
// plain Caddy proxying to the same upstream.
func runHot(ctx context.Context, b *bench) (*table.Table, error) {
	o := b.opts
	plain, err := b.startPlain("hot-plain")
	if err != nil {
		return nil, err
	}
	defer plain.Stop()
	gated, err := b.startGated("hot-trustgate", gateway.SQLiteStorage(b.serverDir("hot-trustgate")+"/tg.db"), "")
	if err != nil {
		return nil, err
	}
	defer gated.Stop()

	cookie, err := trustedSession(ctx, gated)
	if err != nil {
		return nil, fmt.Errorf("getting a trusted session through the real flow: %w\nserver log:\n%s", err, gated.LogTail())
	}
	h := &hotRun{
		ctx:   ctx,
		gated: gated,
		targets: []*hotTarget{
			{label: "A plain caddy", srv: plain, gen: loadgen.New(plain.URL+"/", "", upstreamBody, o.workers)},
			{label: "B trustgate", srv: gated, gen: loadgen.New(gated.URL+"/", cookie, upstreamBody, o.workers)},
		},
		t: &table.Table{
			Title:  fmt.Sprintf("hot path: %d workers, keep-alive, %s per round after %s warm-up", o.workers, o.duration, o.warmup),
			Header: []string{"config", "round", "requests", "req/s", "p50", "p99", "server CPU/req", "bench CPU/req", "errors"},
		},
	}
	if err := h.saturated(o); err != nil {
		return nil, err
	}
	a, bb := h.targets[0], h.targets[1]
	if a.total.Requests == 0 || bb.total.Requests == 0 {
		return h.t, fmt.Errorf("a configuration answered no request")
	}
	rateA := float64(a.total.Requests) / a.total.Elapsed.Seconds()
	rateB := float64(bb.total.Requests) / bb.total.Elapsed.Seconds()

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
	t.Note("B/A req/s at saturation: %.3f (target ≥ 0.95)", rateB/rateA)
	t.Note("server CPU added by trustgate at the same offered load (%.0f req/s to each, paced): %s per request (target ≤ 10 µs)",
		paced, table.Micros(perRequest(pacedCPU[1], pacedTotal[1].Requests)-perRequest(pacedCPU[0], pacedTotal[0].Requests)))
	t.Note("server CPU added at saturation: %s per request (the slower server also batches fewer requests per wake-up)",
		table.Micros(perRequest(bb.cpu, bb.total.Requests)-perRequest(a.cpu, a.total.Requests)))
	t.Note("storage calls during trustgate's %d measured requests: %.0f (%s, from admin /metrics; target 0)",
		bb.total.Requests+pacedTotal[1].Requests, h.storeCalls, storeCallsMetric)
	t.Note("server CPU is the gateway process's utime+stime from /proc, in 10 ms ticks; bench CPU is this process's, where the load generator and the upstream run, on the same two cores: at saturation req/s follows the sum of both")
	t.Note("B's requests carry one session made by the real flow (users-file sign-in, device check answered by the reference agent)")
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
	gated      *gateway.Server
	targets    []*hotTarget
	t          *table.Table
	storeCalls float64
}

// saturated runs o.rounds rounds of each target at full load, after a
// warm-up each, and adds a row per round and one of the totals.
func (h *hotRun) saturated(o options) error {
	for round := 1; round <= o.rounds; round++ {
		for _, tg := range h.targets {
			tg.gen.Run(h.ctx, o.warmup, false)
			res, cpu, err := h.measure(tg, strconv.Itoa(round), func() loadgen.Result { return tg.gen.Run(h.ctx, o.duration, true) })
			if err != nil {
				return err
			}
			tg.total.Add(res)
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
func (h *hotRun) paced(o options, rate float64) ([2]loadgen.Result, [2]time.Duration, error) {
	var total [2]loadgen.Result
	var cpus [2]time.Duration
	for round := 1; round <= o.rounds; round++ {
		for i, tg := range h.targets {
			res, cpu, err := h.measure(tg, "paced "+strconv.Itoa(round), func() loadgen.Result { return tg.gen.RunPaced(h.ctx, o.duration, rate) })
			if err != nil {
				return total, cpus, err
			}
			total[i].Add(res)
			cpus[i] += cpu
		}
	}
	for i, tg := range h.targets {
		addHotRow(h.t, tg.label, "paced all", total[i], cpus[i], tg.benchCPU)
		tg.gen.Close()
	}
	return total, cpus, nil
}

// measure runs one measured stretch of tg's load, adds its row and
// returns it with the server CPU it took.
func (h *hotRun) measure(tg *hotTarget, round string, drive func() loadgen.Result) (loadgen.Result, time.Duration, error) {
	var calls0 float64
	self0, err := proc.CPU(os.Getpid())
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	if tg.srv == h.gated {
		if calls0, err = h.gated.MetricSum(storeCallsMetric); err != nil {
			return loadgen.Result{}, 0, err
		}
	}
	cpu0, err := tg.srv.CPU()
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	res := drive()
	cpu1, err := tg.srv.CPU()
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	self1, err := proc.CPU(os.Getpid())
	if err != nil {
		return loadgen.Result{}, 0, err
	}
	tg.benchCPU += self1 - self0
	if tg.srv == h.gated {
		calls1, err := h.gated.MetricSum(storeCallsMetric)
		if err != nil {
			return loadgen.Result{}, 0, err
		}
		h.storeCalls += calls1 - calls0
	}
	if h.ctx.Err() != nil {
		return loadgen.Result{}, 0, h.ctx.Err()
	}
	addHotRow(h.t, tg.label, round, res, cpu1-cpu0, self1-self0)
	if res.FirstErr != nil {
		h.t.Note("%s round %s: %d errors, first: %v", tg.label, round, res.Errors, res.FirstErr)
	}
	return res, cpu1 - cpu0, nil
}

func addHotRow(t *table.Table, label, round string, r loadgen.Result, cpu, benchCPU time.Duration) {
	rate := 0.0
	if r.Elapsed > 0 {
		rate = float64(r.Requests) / r.Elapsed.Seconds()
	}
	t.Add(label, round, strconv.Itoa(r.Requests), fmt.Sprintf("%.0f", rate),
		table.Millis(r.Latency.Percentile(50)), table.Millis(r.Latency.Percentile(99)),
		table.Micros(perRequest(cpu, r.Requests)), table.Micros(perRequest(benchCPU, r.Requests)), strconv.Itoa(r.Errors))
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
func trustedSession(ctx context.Context, srv *gateway.Server) (string, error) {
	phone := loopback.Phones(1)
	defer loopback.CloseIdle(phone)
	dev, err := activateDevice(ctx, srv, userName(0), &http.Client{Transport: phone[0], Timeout: 30 * time.Second})
	if err != nil {
		return "", err
	}
	br := browser.New(phone[0])
	if err := verifyInline(ctx, srv, br, dev, userName(0)); err != nil {
		return "", err
	}
	return br.CookieHeader(srv.URL)
}
