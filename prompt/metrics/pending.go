package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// pendingVerifications is the pending_verifications gauge. A device check
// that nobody finishes (the person gave up) only lapses, which no request
// reports, so the gauge is worked out when read: it counts the checks
// started here that have not finished here and whose transactions have not
// expired. A check finished by another instance sharing the store, or left
// for another factor (a passcode), counts until it lapses: at most the
// sign-in flow's lifetime.
type pendingVerifications struct {
	desc *prometheus.Desc
	now  func() time.Time

	mu           sync.Mutex
	checks       map[string]pendingCheck // by transaction ID
	applications map[string]struct{}     // every application seen, so each reports 0 too
	swept        time.Time
}

type pendingCheck struct {
	application string
	expires     time.Time
}

// pendingSweepInterval is how often start drops lapsed checks, which keeps
// the map small even when nothing scrapes the metrics.
const pendingSweepInterval = time.Minute

func newPendingVerifications(desc *prometheus.Desc) *pendingVerifications {
	return &pendingVerifications{
		desc:         desc,
		now:          time.Now,
		checks:       make(map[string]pendingCheck),
		applications: make(map[string]struct{}),
	}
}

func (p *pendingVerifications) addApplication(application string) {
	p.mu.Lock()
	p.applications[application] = struct{}{}
	p.mu.Unlock()
}

func (p *pendingVerifications) start(id, application string, expires time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.applications[application] = struct{}{}
	p.checks[id] = pendingCheck{application: application, expires: expires}
	if now := p.now(); now.Sub(p.swept) >= pendingSweepInterval {
		p.sweep(now)
	}
}

func (p *pendingVerifications) finish(id string) {
	p.mu.Lock()
	delete(p.checks, id)
	p.mu.Unlock()
}

// sweep drops lapsed checks; p.mu must be held.
func (p *pendingVerifications) sweep(now time.Time) {
	for id, c := range p.checks {
		if !now.Before(c.expires) {
			delete(p.checks, id)
		}
	}
	p.swept = now
}

// Describe implements prometheus.Collector.
func (p *pendingVerifications) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }

// Collect implements prometheus.Collector.
func (p *pendingVerifications) Collect(ch chan<- prometheus.Metric) {
	p.mu.Lock()
	p.sweep(p.now())
	counts := make(map[string]int, len(p.applications))
	for application := range p.applications {
		counts[application] = 0
	}
	for _, c := range p.checks {
		counts[c.application]++
	}
	p.mu.Unlock()
	for application, n := range counts {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, float64(n), application)
	}
}

// Interface guard
var _ prometheus.Collector = (*pendingVerifications)(nil)
