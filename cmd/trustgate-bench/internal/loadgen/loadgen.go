// Package loadgen is trustgate-bench's load generator: a fixed set of
// workers, each sending GET requests one after another over a keep-alive
// connection of its own, from a loopback address of its own, either as
// fast as the server answers or at a steady offered rate. A Result counts
// what one timed stretch of load did; its Latencies give the percentiles.
package loadgen

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-bench/internal/loopback"
)

// Generator is a fixed set of workers, each sending one request after
// another over its own keep-alive connection.
type Generator struct {
	url     string
	cookie  string // Cookie header, "" for none
	body    string // what every answer must be
	clients []*http.Client
}

// New makes workers for target; each keeps one connection, from an
// address of its own (loopback.WorkerAddr). Every request sends cookie as
// its Cookie header (none when empty); an answer counts when it is a 200
// whose body is as long as body, the upstream's page.
func New(target, cookie, body string, workers int) *Generator {
	g := &Generator{url: target, cookie: cookie, body: body}
	for i := range workers {
		g.clients = append(g.clients, &http.Client{Transport: loopback.TransportFrom(loopback.WorkerAddr(i), 1), Timeout: 10 * time.Second})
	}
	return g
}

// Result is what one timed stretch of load did.
type Result struct {
	// Requests is how many requests were answered as expected.
	Requests int
	// Errors is how many failed; FirstErr is the first of them.
	Errors   int
	FirstErr error
	// Elapsed is the stretch's length.
	Elapsed time.Duration
	// Latency holds every answered request's duration, when recorded.
	Latency Latencies
}

// Add counts r into the totals in l, keeping the first error.
func (l *Result) Add(r Result) {
	l.Requests += r.Requests
	l.Errors += r.Errors
	l.Elapsed += r.Elapsed
	l.Latency = append(l.Latency, r.Latency...)
	if l.FirstErr == nil {
		l.FirstErr = r.FirstErr
	}
}

// Run drives load for d and returns what happened; with record false it
// only warms connections and caches, and keeps no latency.
func (g *Generator) Run(ctx context.Context, d time.Duration, record bool) Result {
	return g.drive(ctx, d, record, 0)
}

// RunPaced drives load for d at about rate requests per second in all,
// each worker sending on its own steady beat (a request that is late is
// sent at once, never in a burst to catch up), and returns what happened.
func (g *Generator) RunPaced(ctx context.Context, d time.Duration, rate float64) Result {
	return g.drive(ctx, d, true, rate)
}

// drive is Run and RunPaced: rate 0 sends as fast as each worker can.
func (g *Generator) drive(ctx context.Context, d time.Duration, record bool, rate float64) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	results := make([]Result, len(g.clients))
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range g.clients {
		wg.Go(func() {
			var beat time.Duration
			if rate > 0 {
				beat = time.Duration(float64(len(g.clients)) / rate * float64(time.Second))
				// Spread the workers' first requests over one beat.
				time.Sleep(beat * time.Duration(i) / time.Duration(len(g.clients)))
			}
			results[i] = g.work(ctx, c, record, beat)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total Result
	for _, r := range results {
		total.Add(r)
	}
	total.Elapsed = elapsed
	return total
}

// work is one worker of drive: it sends requests through c until ctx ends,
// one every beat when beat is set, else each as soon as the last is
// answered.
func (g *Generator) work(ctx context.Context, c *http.Client, record bool, beat time.Duration) Result {
	var r Result
	if record {
		r.Latency = make(Latencies, 0, 4096)
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
			r.Errors++
			if r.FirstErr == nil {
				r.FirstErr = err
			}
			continue
		}
		r.Requests++
		if record {
			r.Latency = append(r.Latency, time.Since(began))
		}
	}
	return r
}

// one sends a request and reads the whole response.
func (g *Generator) one(ctx context.Context, c *http.Client) error {
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
	if resp.StatusCode != http.StatusOK || n != int64(len(g.body)) {
		return fmt.Errorf("status %d with %d bytes, want 200 with the upstream's %d", resp.StatusCode, n, len(g.body))
	}
	return nil
}

// Close drops the workers' connections.
func (g *Generator) Close() {
	for _, c := range g.clients {
		c.CloseIdleConnections()
	}
}
