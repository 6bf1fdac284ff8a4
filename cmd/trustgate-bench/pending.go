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
func runPending(ctx context.Context, b *bench) (*table, error) {
	p := newPendingRun(b.opts)
	srv, err := b.startGated("pending", sqliteStorage(b.serverDir("pending")+"/tg.db"), "")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	p.srv = srv
	p.phones = phones(p.want)
	defer closePhones(p.phones)
	if err := p.prepare(ctx); err != nil {
		return nil, err
	}
	p.hold = &pendingHold{srv: srv, poll: p.opts.poll}
	if p.conns < p.want {
		p.hold.shared = sharedBrowserTransports(p.conns)
		defer closePhones(p.hold.shared)
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
	t      *table
	srv    *server
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
	memBefore          goMemory
	opened, openErrors int
	firstOpenErr       error
	openTime, openCPU  time.Duration
	errorsBefore       int64
	firstErrBefore     error
	rssMax, rssLast    int64
	memHeld            goMemory
	memRead            bool
	held, heldCPU      time.Duration
	stillWaiting       int64
}

// newPendingRun works out how many verifications fit in the open-files
// limit and over how many browser connections.
func newPendingRun(o options) *pendingRun {
	p := &pendingRun{opts: o, want: o.pending}
	limit, limitErr := raiseOpenFiles(uint64(p.want*filesPerPending + filesSpare))
	p.limit = limit
	p.t = &table{header: []string{"measure", "value"}, leftAligned: true}
	if limitErr != nil {
		p.t.note("open-files limit: %v", limitErr)
	}
	p.conns = browserConnections(p.want, o.browserConns, limit)
	if p.conns < 1 {
		room := max((int(limit)-filesSpare)/filesPerPending, 1)
		p.t.note("only %d of %d pending fit in the open-files limit %d of one process", room, p.want, limit)
		p.want, p.conns = room, room
	}
	p.t.title = fmt.Sprintf("pending capacity: %d verifications held pending %s (%s; device long-polling)", p.want, o.hold, browserWaiting(o.poll))
	return p
}

// prepare activates every device, measures one idle connection's cost if
// the browsers will share connections, and takes the baseline memory of a
// fresh, warmed-up process.
func (p *pendingRun) prepare(ctx context.Context) error {
	srv := p.srv
	setupStart := time.Now()
	stopClosing := closeIdleMeanwhile(p.phones)
	devices, err := activateDevices(ctx, srv, p.phones, p.opts.pendingParallel)
	stopClosing()
	if err != nil {
		return fmt.Errorf("activating devices: %w\nserver log:\n%s", err, srv.logTail())
	}
	p.devices = devices
	p.activation = time.Since(setupStart)
	p.idleMeasured = min(p.want, idleConnectionsMeasured)
	if p.conns < p.want {
		// The browsers will share connections: first measure what one
		// idle connection of their own would have cost, in a fresh process.
		if err := srv.restart(); err != nil {
			return err
		}
		if p.idleRSS, p.idleGo, err = idleConnectionCost(ctx, srv, p.idleMeasured); err != nil {
			return fmt.Errorf("%w\nserver log:\n%s", err, srv.logTail())
		}
	}
	// A fresh process for the baseline, so the activations' garbage does not
	// count; one complete verification first warms templates and caches.
	if err := srv.restart(); err != nil {
		return err
	}
	if err := verifyInline(ctx, srv, newBrowser(p.phones[0]), devices[0], userName(0)); err != nil {
		return fmt.Errorf("warm-up verification: %w\nserver log:\n%s", err, srv.logTail())
	}
	p.phones[0].CloseIdleConnections()
	p.rssBefore, p.memBefore, err = settledMemory(srv)
	return err
}

// openAll opens every pending verification, held until holdCtx ends, and
// measures how long that took and the server CPU it cost.
func (p *pendingRun) openAll(ctx, holdCtx context.Context) error {
	openStart := time.Now()
	openCPU0, err := p.srv.cpu()
	if err != nil {
		return err
	}
	p.opened, p.openErrors, p.firstOpenErr = p.hold.open(holdCtx, p.devices, p.opts.pendingParallel, openStart.Add(p.opts.openTimeout))
	p.openTime = time.Since(openStart)
	openCPU1, err := p.srv.cpu()
	if err != nil {
		return err
	}
	p.openCPU = openCPU1 - openCPU0
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if p.opened+p.openErrors < p.want {
		p.t.note("stopped opening after -open-timeout %s: the server could not keep up (it was at %.0f%% of one core meanwhile)",
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
	cpu0, err := srv.cpu()
	if err != nil {
		return err
	}
	holdStart := time.Now()
	for time.Since(holdStart) < o.hold && ctx.Err() == nil {
		if p.rssLast, err = srv.rss(); err != nil {
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
	cpu1, err := srv.cpu()
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
	if err := p.srv.collect(); err != nil {
		return err
	}
	var err error
	if p.memHeld, err = p.srv.goMemory(); err != nil {
		return err
	}
	p.memRead = true
	if p.opts.keep {
		if err := p.srv.saveProfiles("held"); err != nil {
			p.t.note("saving profiles: %v", err)
		}
	}
	return nil
}

// report fills the table with what was measured.
func (p *pendingRun) report() {
	t, o, want, conns, opened := p.t, p.opts, p.want, p.conns, p.opened
	t.add("pending verifications opened", fmt.Sprintf("%d of %d", opened, want))
	t.add("browser connections", browserSharing(want, conns))
	t.add("opening them took", fmt.Sprintf("%s (%.0f/s: sign-in + prompt)", p.openTime.Round(time.Millisecond), float64(opened)/p.openTime.Seconds()))
	t.add("server CPU while opening", fmt.Sprintf("%.0f%% of one core", 100*float64(p.openCPU)/float64(p.openTime)))
	t.add("setup: activating the devices took", p.activation.Round(time.Millisecond).String())
	t.add("server RSS before", megabytes(p.rssBefore))
	t.add("server RSS held (max / last)", megabytes(p.rssMax)+" / "+megabytes(p.rssLast))
	if opened > 0 {
		p.reportPerVerification()
	}
	if conns < want {
		t.add(fmt.Sprintf("one idle browser connection (measured alone, %d of them)", p.idleMeasured),
			fmt.Sprintf("%s RSS, %s Go heap+stack", kib(p.idleRSS, 1), kib(p.idleGo, 1)))
		// Memory a fresh process already holds hides part of the
		// connections' cost from RSS; their Go heap and stacks do not.
		t.add(fmt.Sprintf("RSS held + %d browser connections of their own", want-conns),
			megabytes(p.rssMax+int64(want-conns)*max(p.idleRSS, p.idleGo)))
	}
	t.add("server CPU while held", fmt.Sprintf("%.0f%% of one core", 100*float64(p.heldCPU)/float64(p.held)))
	hold := p.hold
	if o.poll > 0 {
		polls := hold.polls.Load()
		t.add("status polls answered", fmt.Sprintf("%d (%.0f/s)", polls, float64(polls)/p.held.Seconds()))
		t.add("status poll p50 / p99", ms(hold.pollLatency().percentile(50))+" / "+ms(hold.pollLatency().percentile(99)))
		t.add("status polls refused (503: the page backed off)", strconv.FormatInt(hold.refused.Load(), 10))
	}
	t.add("long-polls answered (empty, as expected)", strconv.FormatInt(hold.longPolls.Load(), 10))
	if o.poll > 0 {
		t.add("browsers still seeing \"waiting\" at the end", fmt.Sprintf("%d of %d", p.stillWaiting, opened))
	}
	t.add("errors opening", strconv.Itoa(p.openErrors))
	t.add("poll errors before the hold", strconv.FormatInt(p.errorsBefore, 10))
	t.add("errors while held", strconv.FormatInt(hold.errors.Load(), 10))
	p.reportNotes()
}

// reportPerVerification adds what one pending verification costs.
func (p *pendingRun) reportPerVerification() {
	t, opened := p.t, p.opened
	t.add("RSS per pending verification", kib(p.rssMax-p.rssBefore, opened))
	if !p.memRead {
		return
	}
	before, held := p.memBefore, p.memHeld
	t.add("Go heap live before / held (after a forced GC)", megabytes(before.HeapInuse)+" / "+megabytes(held.HeapInuse))
	t.add("Go heap live per pending verification", kib(held.HeapInuse-before.HeapInuse, opened))
	t.add("goroutine stacks per pending verification", kib(held.StackInuse-before.StackInuse, opened))
	t.add("goroutines per pending verification", fmt.Sprintf("%.2f (%d before, %d held)",
		float64(held.Goroutines-before.Goroutines)/float64(opened), before.Goroutines, held.Goroutines))
}

// reportNotes adds the notes under the table: limits, sharing, errors.
func (p *pendingRun) reportNotes() {
	t, want, conns := p.t, p.want, p.conns
	t.note("open-files limit %d per process; each pending verification holds %d connections in the bench and %d in the server (%s)",
		p.limit, filesPerPending, filesPerPending, browserSharing(want, conns))
	if conns < want {
		t.note("the %d browsers beyond %d shared a connection with another browser, each sending its own polls with its own cookies; "+
			"one idle browser connection was measured on its own (%d connections in a fresh server) and the larger of its RSS and Go figures is added back in the row above",
			want-conns, conns, p.idleMeasured)
	}
	t.note("errors count every failed poll: refused ones (the page retried after its back-off), network errors, unexpected states and long-poll failures")
	if p.firstOpenErr != nil {
		t.note("first error opening: %v", p.firstOpenErr)
	}
	if p.firstErrBefore != nil {
		t.note("first error before the hold: %v", p.firstErrBefore)
	}
	if e := p.hold.firstError(); e != nil {
		t.note("first error while held: %v", e)
	}
	t.note("target: 10,000 pending under 500 MB RSS")
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
	srv  *server
	poll time.Duration
	// shared, when set, are the keep-alive connections the waiting
	// browsers share (see browserConnections): browser i's for i below
	// their number, which the others poll through too.
	shared []*http.Transport
	wg     sync.WaitGroup

	polls, refused, longPolls, errors, waiting atomic.Int64

	mu       sync.Mutex
	firstErr error
	latency  latencies
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
				br := newBrowser(h.browserTransport(i))
				err := br.login(ctx, h.srv.url, userName(i), benchPassword)
				if err == nil {
					_, err = br.prompt(ctx, h.srv.url)
				}
				mu.Lock()
				if err != nil {
					br.client.CloseIdleConnections()
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
						br.client.CloseIdleConnections()
						br = br.through(h.shared[i%n])
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
	return transportFrom(phoneAddr(i), 1)
}

// browserWaits polls the prompt's status as its script does (see
// waitingPage), until ctx ends or the check is no longer waiting. With no
// poll interval it only keeps its connection open, as a page without
// script does.
func (h *pendingHold) browserWaits(ctx context.Context, br *browser, loaded time.Time) {
	defer br.client.CloseIdleConnections()
	if h.poll <= 0 {
		<-ctx.Done()
		return
	}
	page := newWaitingPage(h.poll, loaded)
	timer := time.NewTimer(page.first())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		state, err := br.status(ctx, h.srv.url)
		if ctx.Err() != nil {
			return
		}
		var refused *pollRefused
		switch {
		case errors.As(err, &refused):
			h.refused.Add(1)
			h.fail(err)
			timer.Reset(page.failed(refused.retryAfter))
		case err != nil:
			h.fail(err)
			timer.Reset(page.failed(0))
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
			timer.Reset(page.answered(state, now))
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

func (h *pendingHold) pollLatency() latencies {
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
