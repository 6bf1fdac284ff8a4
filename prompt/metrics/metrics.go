package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trustgate/trustgate/prompt/store"
)

// Metrics are the gateway's collectors. Every configuration load brings a
// new registry, so the embedding program makes one Metrics per process and
// registers it in each; its counts therefore survive reloads.
//
// The application label is the site's application setting, empty for a
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
//	inventory_fetches_total{result}, inventory_fetch_last_success_timestamp_seconds
//	inventory_entries
type Metrics struct {
	logins               *prometheus.CounterVec
	verificationDuration *prometheus.HistogramVec
	pending              *pendingVerifications
	trustCache           *trustCacheCollector
	pushOutcomes         *prometheus.CounterVec
	storeErrors          *prometheus.CounterVec
	failModeActivations  *prometheus.CounterVec
	degraded             *prometheus.GaugeVec
	storeCalls           *prometheus.CounterVec

	inventoryFetches      *prometheus.CounterVec
	inventoryFetchSuccess prometheus.Gauge
	inventory             *inventoryCollector
}

const namespace, subsystem = "caddy", "trusted_endpoints"

// New makes the collectors. trustCache reports the device-trust caches'
// counters and inventory the active inventories' entries when the metrics
// are scraped; nil reports none.
func New(trustCache TrustCacheStats, inventory InventoryStats) *Metrics {
	opts := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: namespace, Subsystem: subsystem, Name: name, Help: help}
	}
	return &Metrics{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts(opts("logins_total",
			"Logins written to the auth log, by result (success, denied, error), reason code, factor and the access device's trust status.")),
			[]string{"application", "result", "reason", "factor", "trust_status"}),
		verificationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "verification_duration_seconds",
			Help:    "Time from the start of a device check (or login request) to its end, by result (success, denied).",
			Buckets: []float64{1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300, 600},
		}, []string{"application", "result"}),
		pending: newPendingVerifications(prometheus.NewDesc(
			prometheus.BuildFQName(namespace, subsystem, "pending_verifications"),
			"Device checks started on this instance that have neither finished here nor lapsed.",
			[]string{"application"}, nil)),
		trustCache: newTrustCacheCollector(trustCache),
		pushOutcomes: prometheus.NewCounterVec(prometheus.CounterOpts(opts("push_outcomes_total",
			"Login requests to the mobile app that ended, by outcome (approved, denied, fraud, wrong_number, expired, no_response).")),
			[]string{"application", "outcome"}),
		storeErrors: prometheus.NewCounterVec(prometheus.CounterOpts(opts("store_errors_total",
			"Storage operations that failed, by the step that needed them (such as counting_login_attempts or recording_login).")),
			[]string{"application", "op"}),
		failModeActivations: prometheus.NewCounterVec(prometheus.CounterOpts(opts("fail_mode_activations_total",
			"Sign-in steps that found storage unreachable and were decided by the fail mode (secure refuses; safe and check let in).")),
			[]string{"application", "mode"}),
		degraded: prometheus.NewGaugeVec(prometheus.GaugeOpts(opts("degraded",
			"1 while the application runs under its fail mode: from a sign-in step that found storage unreachable until storage next takes a login or a device check; else 0.")),
			[]string{"application"}),
		storeCalls: prometheus.NewCounterVec(prometheus.CounterOpts(opts("store_calls_total",
			"Storage operations made while serving the application's requests (sign-in, device checks, the device API); a signed-in request whose device trust is cached makes none. Background work (key refresh, retention, events) is not counted.")),
			[]string{"application"}),
		inventoryFetches: prometheus.NewCounterVec(prometheus.CounterOpts(opts("inventory_fetches_total",
			"Fetches of the inventory of managed devices from its configured URL, by result (ok: imported and activated; unchanged; failed: the active inventory stays).")),
			[]string{"result"}),
		inventoryFetchSuccess: prometheus.NewGauge(prometheus.GaugeOpts(opts("inventory_fetch_last_success_timestamp_seconds",
			"When this instance last fetched the inventory of managed devices successfully (imported, or found unchanged), in seconds since the epoch; 0 before any."))),
		inventory: newInventoryCollector(inventory),
	}
}

// Register registers the collectors in reg, the registry of the
// configuration being loaded; a nil reg is none. A collector already
// registered (by another site) is fine.
func (m *Metrics) Register(reg *prometheus.Registry) error {
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{
		m.logins, m.verificationDuration, m.pending, m.trustCache,
		m.pushOutcomes, m.storeErrors, m.failModeActivations, m.degraded,
		m.storeCalls, m.inventoryFetches, m.inventoryFetchSuccess, m.inventory,
	} {
		var already prometheus.AlreadyRegisteredError
		if err := reg.Register(c); err != nil && !errors.As(err, &already) {
			return fmt.Errorf("registering trusted_endpoints metrics: %w", err)
		}
	}
	return nil
}

// CountedStore returns st counting each call in store_calls_total under
// application.
func (m *Metrics) CountedStore(st store.Store, application string) store.Store {
	return store.Counted(st, m.storeCalls.WithLabelValues(application).Inc)
}
