package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// loadGenerator is a fixed set of workers, each sending one request after
// another over its own keep-alive connection.
type loadGenerator struct {
	url     string
	cookie  string // Cookie header, "" for none
	clients []*http.Client
}

// newLoadGenerator makes workers for target; each keeps one connection,
// from an address of its own.
func newLoadGenerator(target, cookie string, workers int) *loadGenerator {
	g := &loadGenerator{url: target, cookie: cookie}
	for i := range workers {
		g.clients = append(g.clients, &http.Client{Transport: transportFrom(workerAddr(i), 1), Timeout: 10 * time.Second})
	}
	return g
}

// loadResult is what one timed stretch of load did.
type loadResult struct {
	requests int
	errors   int
	firstErr error
	elapsed  time.Duration
	latency  latencies
}

// add counts r into the totals in l, keeping the first error.
func (l *loadResult) add(r loadResult) {
	l.requests += r.requests
	l.errors += r.errors
	l.elapsed += r.elapsed
	l.latency = append(l.latency, r.latency...)
	if l.firstErr == nil {
		l.firstErr = r.firstErr
	}
}

// run drives load for d and returns what happened; with record false it
// only warms connections and caches.
func (g *loadGenerator) run(ctx context.Context, d time.Duration, record bool) loadResult {
	return g.drive(ctx, d, record, 0)
}

// runPaced drives load for d at about rate requests per second in all,
// each worker sending on its own steady beat (a request that is late is
// sent at once, never in a burst to catch up), and returns what happened.
func (g *loadGenerator) runPaced(ctx context.Context, d time.Duration, rate float64) loadResult {
	return g.drive(ctx, d, true, rate)
}

// drive is run and runPaced: rate 0 sends as fast as each worker can.
func (g *loadGenerator) drive(ctx context.Context, d time.Duration, record bool, rate float64) loadResult {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]loadResult, len(g.clients))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range g.clients {
		wg.Go(func() {
			r := &results[i]
			if record {
				r.latency = make(latencies, 0, 4096)
			}
			var beat time.Duration
			if rate > 0 {
				beat = time.Duration(float64(len(g.clients)) / rate * float64(time.Second))
				// Spread the workers' first requests over one beat.
				time.Sleep(beat * time.Duration(i) / time.Duration(len(g.clients)))
			}
			next := time.Now()
			for ctx.Err() == nil {
				if beat > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
						}
						if ctx.Err() != nil {
							break
						}
					}
					next = next.Add(beat)
					if now := time.Now(); next.Before(now) {
						next = now
					}
				}
				began := time.Now()
				err := g.one(ctx, c)
				if ctx.Err() != nil {
					break // cut off by the end of the run, not a failure
				}
				if err != nil {
					r.errors++
					if r.firstErr == nil {
						r.firstErr = err
					}
					continue
				}
				r.requests++
				if record {
					r.latency = append(r.latency, time.Since(began))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total loadResult
	for _, r := range results {
		total.add(r)
	}
	total.elapsed = elapsed
	return total
}

// one sends a request and reads the whole response.
func (g *loadGenerator) one(ctx context.Context, c *http.Client) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return err
	}
	if g.cookie != "" {
		req.Header.Set("Cookie", g.cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK || n != int64(len(upstreamBody)) {
		return fmt.Errorf("status %d with %d bytes, want 200 with the upstream's %d", resp.StatusCode, n, len(upstreamBody))
	}
	return nil
}

func (g *loadGenerator) close() {
	for _, c := range g.clients {
		c.CloseIdleConnections()
	}
}
