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
	o := b.opts
	want := o.pending
	limit, limitErr := raiseOpenFiles(uint64(want*filesPerPending + filesSpare))
	t := &table{
		header:      []string{"measure", "value"},
		leftAligned: true,
	}
	if limitErr != nil {
		t.note("open-files limit: %v", limitErr)
	}
	conns := browserConnections(want, o.browserConns, limit)
	if conns < 1 {
		room := max((int(limit)-filesSpare)/filesPerPending, 1)
		t.note("only %d of %d pending fit in the open-files limit %d of one process", room, want, limit)
		want, conns = room, room
	}
	t.title = fmt.Sprintf("pending capacity: %d verifications held pending %s (%s; device long-polling)", want, o.hold, browserWaiting(o.poll))
	srv, err := b.startGated("pending", sqliteStorage(b.serverDir("pending")+"/tg.db"), "")
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	phones := phones(want)
	defer closePhones(phones)
	setupStart := time.Now()
	stopClosing := closeIdleMeanwhile(phones)
	devices, err := activateDevices(ctx, srv, phones, o.pendingParallel)
	stopClosing()
	if err != nil {
		return nil, fmt.Errorf("activating devices: %w\nserver log:\n%s", err, srv.logTail())
	}
	activation := time.Since(setupStart)
	var idleRSS, idleGo int64
	idleMeasured := min(want, idleConnectionsMeasured)
	if conns < want {
		// The browsers will share connections: first measure what one
		// idle connection of their own would have cost, in a fresh process.
		if err := srv.restart(); err != nil {
			return nil, err
		}
		if idleRSS, idleGo, err = idleConnectionCost(ctx, srv, idleMeasured); err != nil {
			return nil, fmt.Errorf("%w\nserver log:\n%s", err, srv.logTail())
		}
	}
	// A fresh process for the baseline, so the activations' garbage does not
	// count; one complete verification first warms templates and caches.
	if err := srv.restart(); err != nil {
		return nil, err
	}
	if err := verifyInline(ctx, srv, newBrowser(phones[0]), devices[0], userName(0)); err != nil {
		return nil, fmt.Errorf("warm-up verification: %w\nserver log:\n%s", err, srv.logTail())
	}
	phones[0].CloseIdleConnections()
	rssBefore, memBefore, err := settledMemory(srv)
	if err != nil {
		return nil, err
	}

	hold := &pendingHold{srv: srv, poll: o.poll}
	if conns < want {
		hold.shared = sharedBrowserTransports(conns)
		defer closePhones(hold.shared)
	}
	holdCtx, stopHolding := context.WithCancel(ctx)
	defer stopHolding()
	openStart := time.Now()
	openCPU0, err := srv.cpu()
	if err != nil {
		return nil, err
	}
	opened, openErrors, firstOpenErr := hold.open(holdCtx, devices, o.pendingParallel, openStart.Add(o.openTimeout))
	openTime := time.Since(openStart)
	openCPU1, err := srv.cpu()
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if opened+openErrors < want {
		t.note("stopped opening after -open-timeout %s: the server could not keep up (it was at %.0f%% of one core meanwhile)",
			o.openTimeout, 100*float64(openCPU1-openCPU0)/float64(openTime))
	}

	// Let every long-poll and browser settle into its rhythm, then measure.
	settle := min(2*time.Second, o.hold/2)
	time.Sleep(settle)
	errorsBefore := hold.errors.Load()
	firstErrBefore := hold.firstError()
	hold.resetCounts()
	cpu0, err := srv.cpu()
	if err != nil {
		return nil, err
	}
	var (
		rssMax, rssLast int64
		memHeld         goMemory
		memRead         bool
	)
	holdStart := time.Now()
	for time.Since(holdStart) < o.hold && ctx.Err() == nil {
		if rssLast, err = srv.rss(); err != nil {
			return nil, err
		}
		rssMax = max(rssMax, rssLast)
		if !memRead && time.Since(holdStart) >= o.hold/2 {
			// Once, halfway: the collection and the goroutine count
			// cost the server a walk of every goroutine. The RSS
			// figures are the maximum over the whole hold.
			if err := srv.collect(); err != nil {
				return nil, err
			}
			if memHeld, err = srv.goMemory(); err != nil {
				return nil, err
			}
			memRead = true
			if o.keep {
				if err := srv.saveProfiles("held"); err != nil {
					t.note("saving profiles: %v", err)
				}
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	held := time.Since(holdStart)
	cpu1, err := srv.cpu()
	if err != nil {
		return nil, err
	}
	stillWaiting := hold.waiting.Load()
	stopHolding()
	hold.wg.Wait()

	t.add("pending verifications opened", fmt.Sprintf("%d of %d", opened, want))
	t.add("browser connections", browserSharing(want, conns))
	t.add("opening them took", fmt.Sprintf("%s (%.0f/s: sign-in + prompt)", openTime.Round(time.Millisecond), float64(opened)/openTime.Seconds()))
	t.add("server CPU while opening", fmt.Sprintf("%.0f%% of one core", 100*float64(openCPU1-openCPU0)/float64(openTime)))
	t.add("setup: activating the devices took", activation.Round(time.Millisecond).String())
	t.add("server RSS before", megabytes(rssBefore))
	t.add("server RSS held (max / last)", megabytes(rssMax)+" / "+megabytes(rssLast))
	if opened > 0 {
		t.add("RSS per pending verification", kib(rssMax-rssBefore, opened))
		if memRead {
			t.add("Go heap live before / held (after a forced GC)", megabytes(memBefore.HeapInuse)+" / "+megabytes(memHeld.HeapInuse))
			t.add("Go heap live per pending verification", kib(memHeld.HeapInuse-memBefore.HeapInuse, opened))
			t.add("goroutine stacks per pending verification", kib(memHeld.StackInuse-memBefore.StackInuse, opened))
			t.add("goroutines per pending verification", fmt.Sprintf("%.2f (%d before, %d held)",
				float64(memHeld.Goroutines-memBefore.Goroutines)/float64(opened), memBefore.Goroutines, memHeld.Goroutines))
		}
	}
	if conns < want {
		t.add(fmt.Sprintf("one idle browser connection (measured alone, %d of them)", idleMeasured),
			fmt.Sprintf("%s RSS, %s Go heap+stack", kib(idleRSS, 1), kib(idleGo, 1)))
		// Memory a fresh process already holds hides part of the
		// connections' cost from RSS; their Go heap and stacks do not.
		t.add(fmt.Sprintf("RSS held + %d browser connections of their own", want-conns),
			megabytes(rssMax+int64(want-conns)*max(idleRSS, idleGo)))
	}
	t.add("server CPU while held", fmt.Sprintf("%.0f%% of one core", 100*float64(cpu1-cpu0)/float64(held)))
	if o.poll > 0 {
		polls := hold.polls.Load()
		t.add("status polls answered", fmt.Sprintf("%d (%.0f/s)", polls, float64(polls)/held.Seconds()))
		t.add("status poll p50 / p99", ms(hold.pollLatency().percentile(50))+" / "+ms(hold.pollLatency().percentile(99)))
		t.add("status polls refused (503: the page backed off)", strconv.FormatInt(hold.refused.Load(), 10))
	}
	t.add("long-polls answered (empty, as expected)", strconv.FormatInt(hold.longPolls.Load(), 10))
	if o.poll > 0 {
		t.add("browsers still seeing \"waiting\" at the end", fmt.Sprintf("%d of %d", stillWaiting, opened))
	}
	t.add("errors opening", strconv.Itoa(openErrors))
	t.add("poll errors before the hold", strconv.FormatInt(errorsBefore, 10))
	t.add("errors while held", strconv.FormatInt(hold.errors.Load(), 10))
	t.note("open-files limit %d per process; each pending verification holds %d connections in the bench and %d in the server (%s)",
		limit, filesPerPending, filesPerPending, browserSharing(want, conns))
	if conns < want {
		t.note("the %d browsers beyond %d shared a connection with another browser, each sending its own polls with its own cookies; "+
			"one idle browser connection was measured on its own (%d connections in a fresh server) and the larger of its RSS and Go figures is added back in the row above",
			want-conns, conns, idleMeasured)
	}
	t.note("errors count every failed poll: refused ones (the page retried after its back-off), network errors, unexpected states and long-poll failures")
	if firstOpenErr != nil {
		t.note("first error opening: %v", firstOpenErr)
	}
	if firstErrBefore != nil {
		t.note("first error before the hold: %v", firstErrBefore)
	}
	if e := hold.firstError(); e != nil {
		t.note("first error while held: %v", e)
	}
	t.note("target: 10,000 pending under 500 MB RSS")
	return t, nil
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
