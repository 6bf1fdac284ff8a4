package metrics

import "github.com/prometheus/client_golang/prometheus"

// TrustCacheStats reports the device-trust caches' own counters, summed
// over the caches the process holds: lookups that hit, lookups that
// missed, and the decisions held in memory.
type TrustCacheStats func() (hits, misses uint64, entries int)

// trustCacheCollector reports the device-trust caches' counters when
// scraped, so that the request hot path does no extra work for metrics.
// A cache lives in the state shared across reloads, so its counts carry
// over; they start again only if the store itself changes (and with it
// the shared state), which Prometheus sees as a counter reset.
type trustCacheCollector struct {
	lookups, entries *prometheus.Desc
	stats            TrustCacheStats
}

func newTrustCacheCollector(stats TrustCacheStats) *trustCacheCollector {
	if stats == nil {
		stats = func() (uint64, uint64, int) { return 0, 0, 0 }
	}
	return &trustCacheCollector{
		lookups: prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, "trust_cache_lookups_total"),
			"Lookups of signed-in requests in the shared device-trust cache, by result (hit, miss).", []string{"result"}, nil),
		entries: prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, "trust_cache_entries"),
			"Device-trust decisions held in memory, counting expired and revoked ones not yet removed.", nil, nil),
		stats: stats,
	}
}

// Describe implements prometheus.Collector.
func (c *trustCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lookups
	ch <- c.entries
}

// Collect implements prometheus.Collector.
func (c *trustCacheCollector) Collect(ch chan<- prometheus.Metric) {
	hits, misses, entries := c.stats()
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.lookups, prometheus.CounterValue, float64(misses), "miss")
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(entries))
}

// Interface guard
var _ prometheus.Collector = (*trustCacheCollector)(nil)
