package caddymodule

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

// The gateway's metrics, all named caddy_trusted_endpoints_*, go into
// Caddy's Prometheus registry: the admin endpoint's /metrics and the metrics
// handler serve them. Every configuration load brings a new registry, so the
// collectors are made once per process and registered in each handler's
// Provision; their counts therefore survive reloads.
//
// The application label is the handler's application setting, empty for a
// site that names none: the auth log falls back to the request's host, but
// a label made from a client-chosen Host header would let anyone create
// series without end. No label ever holds a user, email, device ID or
// address; reason, factor, op and the rest are codes from fixed sets.
//
//	logins_total{application,result,reason,factor,trust_status}
//	verification_duration_seconds{application,result}
//	pending_verifications{application}
//	trust_cache_lookups_total{result}, trust_cache_entries
//	push_outcomes_total{application,outcome}
//	store_errors_total{application,op}
//	fail_mode_activations_total{application,mode}
//	degraded{application}
//	store_calls_total{application}
var gatewayMetrics struct {
	once                 sync.Once
	logins               *prometheus.CounterVec
	verificationDuration *prometheus.HistogramVec
	pending              *pendingVerifications
	trustCache           *trustCacheCollector
	pushOutcomes         *prometheus.CounterVec
	storeErrors          *prometheus.CounterVec
	failModeActivations  *prometheus.CounterVec
	degraded             *prometheus.GaugeVec
	storeCalls           *prometheus.CounterVec
}

const metricsNamespace, metricsSubsystem = "caddy", "trusted_endpoints"

func initMetrics() {
	m := &gatewayMetrics
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: name, Help: help}
	}
	m.logins = prometheus.NewCounterVec(prometheus.CounterOpts(opts("logins_total",
		"Logins written to the auth log, by result (success, denied, error), reason code, factor and the access device's trust status.")),
		[]string{"application", "result", "reason", "factor", "trust_status"})
	m.verificationDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: metricsNamespace, Subsystem: metricsSubsystem, Name: "verification_duration_seconds",
		Help:    "Time from the start of a device check (or login request) to its end, by result (success, denied).",
		Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600},
	}, []string{"application", "result"})
	m.pending = newPendingVerifications(prometheus.NewDesc(
		prometheus.BuildFQName(metricsNamespace, metricsSubsystem, "pending_verifications"),
		"Device checks started on this instance that have neither finished here nor lapsed.",
		[]string{"application"}, nil))
	m.trustCache = &trustCacheCollector{
		lookups: prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, metricsSubsystem, "trust_cache_lookups_total"),
			"Lookups of signed-in requests in the shared device-trust cache, by result (hit, miss).", []string{"result"}, nil),
		entries: prometheus.NewDesc(prometheus.BuildFQName(metricsNamespace, metricsSubsystem, "trust_cache_entries"),
			"Device-trust decisions held in memory, counting expired and revoked ones not yet removed.", nil, nil),
	}
	m.pushOutcomes = prometheus.NewCounterVec(prometheus.CounterOpts(opts("push_outcomes_total",
		"Login requests to the mobile app that ended, by outcome (approved, denied, fraud, wrong_number, expired, no_response).")),
		[]string{"application", "outcome"})
	m.storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts(opts("store_errors_total",
		"Storage operations that failed, by the step that needed them (such as counting_login_attempts or recording_login).")),
		[]string{"application", "op"})
	m.failModeActivations = prometheus.NewCounterVec(prometheus.CounterOpts(opts("fail_mode_activations_total",
		"Sign-in steps that found storage unreachable and were decided by the fail mode (secure refuses; safe and check let in).")),
		[]string{"application", "mode"})
	m.degraded = prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("degraded",
		"1 while the application runs under its fail mode: from a sign-in step that found storage unreachable until storage next takes a login or a device check; else 0.")),
		[]string{"application"})
	m.storeCalls = prometheus.NewCounterVec(prometheus.CounterOpts(opts("store_calls_total",
		"Storage operations made while serving the application's requests (sign-in, device checks, the device API); a signed-in request whose device trust is cached makes none. Background work (key refresh, retention, events) is not counted.")),
		[]string{"application"})
}

// registerMetrics registers the gateway's collectors in reg, the registry of
// the configuration being loaded. A collector already registered (by another
// site's handler) is fine.
func registerMetrics(reg *prometheus.Registry) error {
	gatewayMetrics.once.Do(initMetrics)
	if reg == nil {
		return nil
	}
	m := &gatewayMetrics
	for _, c := range []prometheus.Collector{
		m.logins, m.verificationDuration, m.pending, m.trustCache,
		m.pushOutcomes, m.storeErrors, m.failModeActivations, m.degraded,
		m.storeCalls,
	} {
		var already prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &already) {
			return fmt.Errorf("registering trusted_endpoints metrics: %w", err)
		}
	}
	return nil
}

// metricsObserver is a handler's prompt.Observer: it counts the gate's
// events under the handler's application name, and logs when the gate
// starts and stops running under its fail mode.
type metricsObserver struct {
	application string
	logger      *zap.Logger
	degraded    prometheus.Gauge
	// inFailMode says whether this observer last saw the gate degraded,
	// so that each change is logged once.
	inFailMode atomic.Bool
}

func newMetricsObserver(application string, logger *zap.Logger) *metricsObserver {
	gatewayMetrics.once.Do(initMetrics)
	gatewayMetrics.pending.addApplication(application)
	return &metricsObserver{
		application: application,
		logger:      logger,
		degraded:    gatewayMetrics.degraded.WithLabelValues(application),
	}
}

// countedStore returns st counting each call in store_calls_total under
// application.
func countedStore(st store.Store, application string) store.Store {
	gatewayMetrics.once.Do(initMetrics)
	return store.Counted(st, gatewayMetrics.storeCalls.WithLabelValues(application).Inc)
}

// LoginRecorded implements prompt.Observer.
func (o *metricsObserver) LoginRecorded(e store.AuthLogEntry) {
	gatewayMetrics.logins.WithLabelValues(o.application, e.Result, e.Reason, e.Factor, e.TrustStatus).Inc()
	o.storeAnswered()
}

// VerificationStarted implements prompt.Observer.
func (o *metricsObserver) VerificationStarted(id string, expires time.Time) {
	gatewayMetrics.pending.start(id, o.application, expires)
	o.storeAnswered()
}

// storeAnswered ends the degraded state: the store took a write.
func (o *metricsObserver) storeAnswered() {
	// Another observer of the application (a site before a reload) may
	// have set it: clear it whatever this one saw.
	o.degraded.Set(0)
	if o.inFailMode.CompareAndSwap(true, false) {
		o.logger.Info("storage reachable again: fail mode no longer in effect")
	}
}

// VerificationFinished implements prompt.Observer.
func (o *metricsObserver) VerificationFinished(id string, took time.Duration, result string) {
	gatewayMetrics.verificationDuration.WithLabelValues(o.application, result).Observe(took.Seconds())
	gatewayMetrics.pending.finish(id)
}

// PushOutcome implements prompt.Observer.
func (o *metricsObserver) PushOutcome(outcome string) {
	gatewayMetrics.pushOutcomes.WithLabelValues(o.application, outcome).Inc()
}

// StoreFailed implements prompt.Observer.
func (o *metricsObserver) StoreFailed(op string) {
	gatewayMetrics.storeErrors.WithLabelValues(o.application, op).Inc()
}

// FailModeActivated implements prompt.Observer.
func (o *metricsObserver) FailModeActivated(mode prompt.FailMode) {
	gatewayMetrics.failModeActivations.WithLabelValues(o.application, string(mode)).Inc()
	o.degraded.Set(1)
	if o.inFailMode.CompareAndSwap(false, true) {
		o.logger.Warn("storage unreachable: fail mode in effect", zap.String("fail_mode", string(mode)))
	}
}

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

// trustCacheCollector reports the shared device-trust caches' own counters
// when scraped, so that the request hot path does no extra work for
// metrics. A cache lives in the state shared across reloads, so its counts
// carry over; they start again only if the store itself changes (and with
// it the shared state), which Prometheus sees as a counter reset. Ranging
// over the pool would wait for a store being opened, but a configuration's
// registry only gets this collector after its store is open.
type trustCacheCollector struct {
	lookups, entries *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *trustCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lookups
	ch <- c.entries
}

// Collect implements prometheus.Collector.
func (c *trustCacheCollector) Collect(ch chan<- prometheus.Metric) {
	var hits, misses uint64
	var entries int
	sharedPool.Range(func(_, v any) bool {
		if s, ok := v.(*sharedState); ok {
			h, m := s.TrustCache().Stats()
			hits, misses, entries = hits+h, misses+m, entries+s.TrustCache().Len()
		}
		return true
	})
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(misses), "miss")
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(entries))
}

// Interface guards
var (
	_ prompt.Observer      = (*metricsObserver)(nil)
	_ prometheus.Collector = (*pendingVerifications)(nil)
	_ prometheus.Collector = (*trustCacheCollector)(nil)
)
