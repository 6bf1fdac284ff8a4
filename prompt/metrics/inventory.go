package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// InventoryStats reports the entries of the active inventories of managed
// devices that the process holds (one per store), summed.
type InventoryStats func() (entries int)

// inventoryCollector reports the active inventory's entries when scraped:
// an inventory changes through the admin API, a fetch or another
// instance's event, and reading it then is simpler than following each.
type inventoryCollector struct {
	entries *prometheus.Desc
	stats   InventoryStats
}

func newInventoryCollector(stats InventoryStats) *inventoryCollector {
	if stats == nil {
		stats = func() int { return 0 }
	}
	return &inventoryCollector{
		entries: prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, "inventory_entries"),
			"Entries of the active inventory of managed devices held in memory.", nil, nil),
		stats: stats,
	}
}

// Describe implements prometheus.Collector.
func (c *inventoryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.entries }

// Collect implements prometheus.Collector.
func (c *inventoryCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(c.stats()))
}

// InventoryFetched counts a fetch of the inventory by its result (ok,
// unchanged or failed) and, unless it failed, sets the time of the last
// successful fetch. It implements runtime.InventoryFetchObserver
// (caddymodule/metrics.go holds the interface guard).
func (m *Metrics) InventoryFetched(result string, at time.Time) {
	m.inventoryFetches.WithLabelValues(result).Inc()
	if result != "failed" {
		m.inventoryFetchSuccess.Set(float64(at.UnixNano()) / 1e9)
	}
}
