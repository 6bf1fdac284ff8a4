package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/browser"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/gateway"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loadgen"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loopback"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/proc"
	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/table"
	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
)

// filesPerPending is the descriptors one pending verification holds on
// each side: the browser's connection and the device's long-poll.
const filesPerPending = 2

// filesSpare is what the processes need beside the pending connections.
const filesSpare = 512

// runPending holds many verifications pending at once, each a browser
// waiting on the prompt and its device long-polling for login requests,
// and measures the gateway's memory.
func runPending(ctx context.Context, b *bench) (*table.Table, error) {
	p := newPendingRun(b.opts)
	srv, err := b.startGated("pending", gateway.SQLiteStorage(b.serverDir("pending")+"/tg.db"), "")
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	p.srv = srv
	p.phones = loopback.Phones(p.want)
	defer loopback.CloseIdle(p.phones)
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	p.hold = &pendingHold{srv: srv, poll: p.opts.poll}
	if p.conns < p.want {
		p.hold.shared = sharedBrowserTransports(p.conns)
		defer loopback.CloseIdle(p.hold.shared)
	}
	holdCtx, stopHolding := context.WithCancel(ctx)
	defer stopHolding()
	if err := p.openAll(ctx, holdCtx); err != nil {
		return nil, err
	}
	if err := p.measureHeld(ctx); err != nil {
		return nil, err
	}
	stopHolding()
	p.hold.wg.Wait()
	p.report()
	return p.t, nil
}

// pendingRun is one pending-capacity run under way: what it asked for and
// what it measured, phase by phase.
type pendingRun struct {
	opts   options
	t      *table.Table
	srv    *gateway.Server
	phones []*http.Transport
	hold   *pendingHold
	// want verifications held over conns browser connections; limit is
	// the open-files limit of one process.
	want, conns int
	limit       uint64
	devices     []*agent.Agent

	activation         time.Duration
	idleRSS, idleGo    int64
	idleMeasured       int
	rssBefore          int64
	memBefore          gateway.GoMemory
	opened, openErrors int
	firstOpenErr       error
	openTime, openCPU  time.Duration
	errorsBefore       int64
	firstErrBefore     error
	rssMax, rssLast    int64
	memHeld            gateway.GoMemory
	memRead            bool
	held, heldCPU      time.Duration
	stillWaiting       int64
}

// newPendingRun works out how many verifications fit in the open-files
// limit and over how many browser connections.
func newPendingRun(o options) *pendingRun {
	p := &pendingRun{opts: o, want: o.pending}
	limit, limitErr := proc.RaiseOpenFiles(uint64(p.want*filesPerPending + filesSpare))
	p.limit = limit
	p.t = &table.Table{Header: []string{"measure", "value"}, LeftAligned: true}
	if limitErr != nil {
		p.t.Note("open-files limit: %v", limitErr)
	}
	p.conns = browserConnections(p.want, o.browserConns, limit)
	if p.conns < 1 {
		room := max((int(limit)-filesSpare)/filesPerPending, 1)
		p.t.Note("only %d of %d pending fit in the open-files limit %d of one process", room, p.want, limit)
		p.want, p.conns = room, room
	}
	p.t.Title = fmt.Sprintf("pending capacity: %d verifications held pending %s (%s; device long-polling)", p.want, o.hold, browserWaiting(o.poll))
	return p
}

// prepare activates every device, measures one idle connection's cost if
// the browsers will share connections, and takes the baseline memory of a
// fresh, warmed-up process.
func (p *pendingRun) prepare(ctx context.Context) error {
	srv := p.srv
	setupStart := time.Now()
	stopClosing := loopback.CloseIdleMeanwhile(p.phones)
	devices, err := activateDevices(ctx, srv, p.phones, p.opts.pendingParallel)
	stopClosing()
	if err != nil {
		return fmt.Errorf("activating devices: %w\nserver log:\n%s", err, srv.LogTail())
	}
	p.devices = devices
	p.activation = time.Since(setupStart)
	p.idleMeasured = min(p.want, idleConnectionsMeasured)
	if p.conns < p.want {
		// The browsers will share connections: first measure what one
		// idle connection of their own would have cost, in a fresh process.
		if err := srv.Restart(); err != nil {
			return err
		}
		if p.idleRSS, p.idleGo, err = idleConnectionCost(ctx, srv, p.idleMeasured); err != nil {
			return fmt.Errorf("%w\nserver log:\n%s", err, srv.LogTail())
		}
	}
	// A fresh process for the baseline, so the activations' garbage does not
	// count; one complete verification first warms templates and caches.
	if err := srv.Restart(); err != nil {
		return err
	}
	if err := verifyInline(ctx, srv, browser.New(p.phones[0]), devices[0], userName(0)); err != nil {
		return fmt.Errorf("warm-up verification: %w\nserver log:\n%s", err, srv.LogTail())
	}
	p.phones[0].CloseIdleConnections()
	p.rssBefore, p.memBefore, err = settledMemory(srv)
	return err
}

// openAll opens every pending verification, held until holdCtx ends, and
// measures how long that took and the server CPU it cost.
func (p *pendingRun) openAll(ctx, holdCtx context.Context) error {
	openStart := time.Now()
	openCPU0, err := p.srv.CPU()
	if err != nil {
		return err
	}
	p.opened, p.openErrors, p.firstOpenErr = p.hold.open(holdCtx, p.devices, p.opts.pendingParallel, openStart.Add(p.opts.openTimeout))
	p.openTime = time.Since(openStart)
	openCPU1, err := p.srv.CPU()
	if err != nil {
		return err
	}
	p.openCPU = openCPU1 - openCPU0
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if p.opened+p.openErrors < p.want {
		p.t.Note("stopped opening after -open-timeout %s: the server could not keep up (it was at %.0f%% of one core meanwhile)",
			p.opts.openTimeout, 100*float64(p.openCPU)/float64(p.openTime))
	}
	return nil
}

// measureHeld lets every long-poll and browser settle into its rhythm,
// then samples the server's memory and CPU over the hold.
func (p *pendingRun) measureHeld(ctx context.Context) error {
	o, srv := p.opts, p.srv
	time.Sleep(min(2*time.Second, o.hold/2))
	p.errorsBefore = p.hold.errors.Load()
	p.firstErrBefore = p.hold.firstError()
	p.hold.resetCounts()
	cpu0, err := srv.CPU()
	if err != nil {
		return err
	}
	holdStart := time.Now()
	for time.Since(holdStart) < o.hold && ctx.Err() == nil {
		if p.rssLast, err = srv.RSS(); err != nil {
			return err
		}
		p.rssMax = max(p.rssMax, p.rssLast)
		if !p.memRead && time.Since(holdStart) >= o.hold/2 {
			if err := p.readGoMemory(); err != nil {
				return err
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	p.held = time.Since(holdStart)
	cpu1, err := srv.CPU()
	if err != nil {
		return err
	}
	p.heldCPU = cpu1 - cpu0
	p.stillWaiting = p.hold.waiting.Load()
	return nil
}

// readGoMemory is done once, halfway through the hold: the collection and
// the goroutine count cost the server a walk of every goroutine. The RSS
// figures are the maximum over the whole hold.
func (p *pendingRun) readGoMemory() error {
	if err := p.srv.Collect(); err != nil {
		return err
	}
	var err error
	if p.memHeld, err = p.srv.GoMemory(); err != nil {
		return err
	}
	p.memRead = true
	if p.opts.keep {
		if err := p.srv.SaveProfiles("held"); err != nil {
			p.t.Note("saving profiles: %v", err)
		}
	}
	return nil
}

// report fills the table with what was measured.
func (p *pendingRun) report() {
	t, o, want, conns, opened := p.t, p.opts, p.want, p.conns, p.opened
	t.Add("pending verifications opened", fmt.Sprintf("%d of %d", opened, want))
	t.Add("browser connections", browserSharing(want, conns))
	t.Add("opening them took", fmt.Sprintf("%s (%.0f/s: sign-in + prompt)", p.openTime.Round(time.Millisecond), float64(opened)/p.openTime.Seconds()))
	t.Add("server CPU while opening", fmt.Sprintf("%.0f%% of one core", 100*float64(p.openCPU)/float64(p.openTime)))
	t.Add("setup: activating the devices took", p.activation.Round(time.Millisecond).String())
	t.Add("server RSS before", table.MiB(p.rssBefore))
	t.Add("server RSS held (max / last)", table.MiB(p.rssMax)+" / "+table.MiB(p.rssLast))
	if opened > 0 {
		p.reportPerVerification()
	}
	if conns < want {
		t.Add(fmt.Sprintf("one idle browser connection (measured alone, %d of them)", p.idleMeasured),
			fmt.Sprintf("%s RSS, %s Go heap+stack", table.KiBEach(p.idleRSS, 1), table.KiBEach(p.idleGo, 1)))
		// Memory a fresh process already holds hides part of the
		// connections' cost from RSS; their Go heap and stacks do not.
		t.Add(fmt.Sprintf("RSS held + %d browser connections of their own", want-conns),
			table.MiB(p.rssMax+int64(want-conns)*max(p.idleRSS, p.idleGo)))
	}
	t.Add("server CPU while held", fmt.Sprintf("%.0f%% of one core", 100*float64(p.heldCPU)/float64(p.held)))
	hold := p.hold
	if o.poll > 0 {
		polls := hold.polls.Load()
		t.Add("status polls answered", fmt.Sprintf("%d (%.0f/s)", polls, float64(polls)/p.held.Seconds()))
		t.Add("status poll p50 / p99", table.Millis(hold.pollLatency().Percentile(50))+" / "+table.Millis(hold.pollLatency().Percentile(99)))
		t.Add("status polls refused (503: the page backed off)", strconv.FormatInt(hold.refused.Load(), 10))
	}
	t.Add("long-polls answered (empty, as expected)", strconv.FormatInt(hold.longPolls.Load(), 10))
	if o.poll > 0 {
		t.Add("browsers still seeing \"waiting\" at the end", fmt.Sprintf("%d of %d", p.stillWaiting, opened))
	}
	t.Add("errors opening", strconv.Itoa(p.openErrors))
	t.Add("poll errors before the hold", strconv.FormatInt(p.errorsBefore, 10))
	t.Add("errors while held", strconv.FormatInt(hold.errors.Load(), 10))
	p.reportNotes()
}

// reportPerVerification adds what one pending verification costs.
func (p *pendingRun) reportPerVerification() {
	t, opened := p.t, p.opened
	t.Add("RSS per pending verification", table.KiBEach(p.rssMax-p.rssBefore, opened))
	if !p.memRead {
		return
	}
	before, held := p.memBefore, p.memHeld
	t.Add("Go heap live before / held (after a forced GC)", table.MiB(before.HeapInuse)+" / "+table.MiB(held.HeapInuse))
	t.Add("Go heap live per pending verification", table.KiBEach(held.HeapInuse-before.HeapInuse, opened))
	t.Add("goroutine stacks per pending verification", table.KiBEach(held.StackInuse-before.StackInuse, opened))
	t.Add("goroutines per pending verification", fmt.Sprintf("%.2f (%d before, %d held)",
		float64(held.Goroutines-before.Goroutines)/float64(opened), before.Goroutines, held.Goroutines))
}

// reportNotes adds the notes under the table: limits, sharing, errors.
func (p *pendingRun) reportNotes() {
	t, want, conns := p.t, p.want, p.conns
	t.Note("open-files limit %d per process; each pending verification holds %d connections in the bench and %d in the server (%s)",
		p.limit, filesPerPending, filesPerPending, browserSharing(want, conns))
	if conns < want {
		t.Note("the %d browsers beyond %d shared a connection with another browser, each sending its own polls with its own cookies; "+
			"one idle browser connection was measured on its own (%d connections in a fresh server) and the larger of its RSS and Go figures is added back in the row above",
			want-conns, conns, p.idleMeasured)
	}
	t.Note("errors count every failed poll: refused ones (the page retried after its back-off), network errors, unexpected states and long-poll failures")
	if p.firstOpenErr != nil {
		t.Note("first error opening: %v", p.firstOpenErr)
	}
	if p.firstErrBefore != nil {
		t.Note("first error before the hold: %v", p.firstErrBefore)
	}
	if e := p.hold.firstError(); e != nil {
		t.Note("first error while held: %v", e)
	}
	t.Note("target: 10,000 pending under 500 MB RSS")
}

// longPollWait is how long the phones ask the gateway to hold their
// long-polls: under the 30 s timeout of their HTTP clients (see
// activateDevices), which counts from the request's start while the
// gateway's wait starts after the proof check, so that a wait held in full
// is an answer, not a client timeout.
const longPollWait = 25 * time.Second

// idleConnectionsMeasured is how many idle connections the run opens to
// measure one.
const idleConnectionsMeasured = 1000

// browserWaiting says what a waiting browser does, for the title.
func browserWaiting(poll time.Duration) string {
	if poll <= 0 {
		return "browser idle on the prompt, connection kept open"
	}
	return fmt.Sprintf("browser polling its status as the prompt's script does: every %s, %s after 10 s, %s after a minute, backing off on errors",
		poll, 2*poll, 3*poll)
}

// pendingHold is the set of browsers and devices keeping verifications
// pending.
type pendingHold struct {
	srv  *gateway.Server
	poll time.Duration
	// shared, when set, are the keep-alive connections the waiting
	// browsers share (see browserConnections): browser i's for i below
	// their number, which the others poll through too.
	shared []*http.Transport
	wg     sync.WaitGroup

	polls, refused, longPolls, errors, waiting atomic.Int64

	mu       sync.Mutex
	firstErr error
	latency  loadgen.Latencies
}

// open signs every device's user in, opens the prompt (which starts the
// transaction), and leaves the browser polling and the device long-polling
// until ctx ends. It starts no new sign-in after stopBy: a check left
// pending longer than the gateway's flow lifetime (10 minutes) expires, so
// a server that cannot keep up is reported, not waited for.
func (h *pendingHold) open(ctx context.Context, devices []*agent.Agent, parallel int, stopBy time.Time) (opened, failed int, firstErr error) {
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		next = make(chan int)
	)
	for range parallel {
		wg.Go(func() {
			for i := range next {
				br := browser.New(h.browserTransport(i))
				err := br.Login(ctx, h.srv.URL, userName(i), benchPassword)
				if err == nil {
					_, err = br.Prompt(ctx, h.srv.URL)
				}
				mu.Lock()
				if err != nil {
					br.CloseIdleConnections()
					failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("%s: %w", userName(i), err)
					}
				} else {
					opened++
				}
				mu.Unlock()
				if err == nil {
					loaded := time.Now()
					if n := len(h.shared); n > 0 && i >= n {
						// The browser's connection closes; it polls
						// through browser i%n's.
						br.CloseIdleConnections()
						br = br.Through(h.shared[i%n])
					}
					h.waiting.Add(1)
					h.wg.Go(func() { h.browserWaits(ctx, br, loaded) })
					h.wg.Go(func() { h.deviceWaits(ctx, devices[i]) })
				}
			}
		})
	}
	for i := range devices {
		if ctx.Err() != nil || time.Now().After(stopBy) {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	return opened, failed, firstErr
}

// browserTransport is where browser i sends its requests: connections of
// its own (a phone's browser and its app share none), from the phone's
// address; when browsers share connections, the first len(shared) keep
// theirs in shared, for the others to poll through after signing in.
func (h *pendingHold) browserTransport(i int) *http.Transport {
	if i < len(h.shared) {
		return h.shared[i]
	}
	return loopback.TransportFrom(loopback.PhoneAddr(i), 1)
}

// browserWaits polls the prompt's status as its script does (see
// browser.WaitingPage), until ctx ends or the check is no longer waiting.
// With no poll interval it only keeps its connection open, as a page
// without script does.
func (h *pendingHold) browserWaits(ctx context.Context, br *browser.Browser, loaded time.Time) {
	defer br.CloseIdleConnections()
	if h.poll <= 0 {
		<-ctx.Done()
		return
	}
	page := browser.NewWaitingPage(h.poll, loaded)
	timer := time.NewTimer(page.First())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		state, err := br.Status(ctx, h.srv.URL)
		if ctx.Err() != nil {
			return
		}
		var refused *browser.PollRefused
		switch {
		case errors.As(err, &refused):
			h.refused.Add(1)
			h.fail(err)
			timer.Reset(page.Failed(refused.RetryAfter))
		case err != nil:
			h.fail(err)
			timer.Reset(page.Failed(0))
		case state != "waiting":
			h.fail(fmt.Errorf("status poll: state %q, want \"waiting\"", state))
			h.waiting.Add(-1)
			return
		default:
			now := time.Now()
			h.polls.Add(1)
			h.mu.Lock()
			h.latency = append(h.latency, now.Sub(began))
			h.mu.Unlock()
			timer.Reset(page.Answered(state, now))
		}
	}
}

// deviceWaits long-polls the device's login requests until ctx ends; none
// should arrive, since nobody reports for the transaction.
func (h *pendingHold) deviceWaits(ctx context.Context, dev *agent.Agent) {
	for ctx.Err() == nil {
		pushes, err := dev.Pushes(ctx, longPollWait)
		if ctx.Err() != nil {
			return
		}
		if err == nil && len(pushes) > 0 {
			err = fmt.Errorf("long-poll: %d unexpected login requests", len(pushes))
		}
		if err != nil {
			h.fail(err)
			// Back off as an app would, rather than spin on an error.
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		h.longPolls.Add(1)
	}
}

func (h *pendingHold) fail(err error) {
	h.errors.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.firstErr == nil && !errors.Is(err, context.Canceled) {
		h.firstErr = err
	}
}

func (h *pendingHold) firstError() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.firstErr
}

func (h *pendingHold) pollLatency() loadgen.Latencies {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.latency
}

// resetCounts starts the measured stretch.
func (h *pendingHold) resetCounts() {
	h.polls.Store(0)
	h.refused.Store(0)
	h.longPolls.Store(0)
	h.errors.Store(0)
	h.mu.Lock()
	h.latency = nil
	h.firstErr = nil
	h.mu.Unlock()
}
