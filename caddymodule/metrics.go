package caddymodule

import (
	"sync"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/metrics"
	"github.com/trustgate/trustgate/prompt/runtime"
)

// gatewayMetrics are the gateway's metrics (see prompt/metrics), all named
// caddy_trusted_endpoints_*, which go into Caddy's Prometheus registry: the
// admin endpoint's /metrics and the metrics handler serve them. Every
// configuration load brings a new registry, so the collectors are made
// once per process and registered in each handler's Provision; their
// counts therefore survive reloads.
var gatewayMetrics = sync.OnceValue(func() *metrics.Metrics {
	return metrics.New(trustCacheStats, inventoryEntries)
})

// trustCacheStats sums the counters of the shared device-trust caches when
// the metrics are scraped. Ranging over the pool would wait for a store
// being opened, but a configuration's registry only gets the collector
// after its store is open.
func trustCacheStats() (hits, misses uint64, entries int) {
	sharedPool.Range(func(_, v any) bool {
		if s, ok := v.(*sharedState); ok {
			h, m := s.TrustCache().Stats()
			hits, misses, entries = hits+h, misses+m, entries+s.TrustCache().Len()
		}
		return true
	})
	return hits, misses, entries
}

// inventoryEntries sums the entries of the shared active inventories when
// the metrics are scraped.
func inventoryEntries() (entries int) {
	sharedPool.Range(func(_, v any) bool {
		if s, ok := v.(*sharedState); ok {
			entries += s.Inventory().Index().Len()
		}
		return true
	})
	return entries
}

// Interface guards
var (
	_ prompt.Observer                = (*metrics.Observer)(nil)
	_ runtime.InventoryFetchObserver = (*metrics.Metrics)(nil)
)
