package metrics

import (
	"maps"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/store"
)

func TestMetricsObserverShowsDegradedState(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	const application = "metrics-degraded"
	m := New(nil, nil)
	o := m.Observer(application, zap.New(core))
	degraded := m.degraded.WithLabelValues(application)
	activations := func(mode prompt.FailMode) float64 {
		return metricValue(t, m.failModeActivations.WithLabelValues(application, string(mode)))
	}
	if v := metricValue(t, degraded); v != 0 {
		t.Fatalf("degraded = %v before any outage, want 0", v)
	}

	o.StoreFailed("counting_login_attempts")
	o.FailModeActivated("safe")
	o.FailModeActivated("safe")
	if v := metricValue(t, degraded); v != 1 {
		t.Errorf("degraded = %v during the outage, want 1", v)
	}
	if v := activations(prompt.FailSafe); v != 2 {
		t.Errorf("fail_mode_activations_total{mode=safe} = %v, want 2", v)
	}
	if v := metricValue(t, m.storeErrors.WithLabelValues(application, "counting_login_attempts")); v != 1 {
		t.Errorf("store_errors_total = %v, want 1", v)
	}

	// Storage takes a write again: the state clears.
	o.LoginRecorded(store.AuthLogEntry{Result: "success", Reason: "valid_password", Factor: "password", TrustStatus: "unknown"})
	if v := metricValue(t, degraded); v != 0 {
		t.Errorf("degraded = %v after recovery, want 0", v)
	}
	// Each change of state is logged once.
	if n := logs.FilterMessage("storage unreachable: fail mode in effect").FilterField(zap.String("fail_mode", "safe")).Len(); n != 1 {
		t.Errorf("%d log entries for entering the fail mode, want 1", n)
	}
	if n := logs.FilterMessage("storage reachable again: fail mode no longer in effect").Len(); n != 1 {
		t.Errorf("%d log entries for leaving the fail mode, want 1", n)
	}
}

func TestPendingVerificationsLapse(t *testing.T) {
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	p := newPendingVerifications(prometheus.NewDesc("pending", "help", []string{"application"}, nil))
	p.now = func() time.Time { return now }
	p.addApplication("idle")
	p.start("a", "app", now.Add(10*time.Minute))
	p.start("b", "app", now.Add(10*time.Minute))
	p.start("c", "app", now.Add(time.Minute))
	p.finish("a")
	p.finish("unknown") // finished elsewhere, or before a restart
	check := func(when string, want map[string]float64) {
		t.Helper()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(p)
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		got := make(map[string]float64)
		for _, f := range families {
			for _, m := range f.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s: pending = %v, want %v", when, got, want)
		}
	}
	check("at the start", map[string]float64{"app": 2, "idle": 0})
	now = now.Add(time.Minute) // c lapses
	check("after c lapsed", map[string]float64{"app": 1, "idle": 0})
	if len(p.checks) != 1 {
		t.Errorf("%d checks kept after lapsing, want 1", len(p.checks))
	}
}

// metricValue reads a counter or gauge.
func metricValue(t *testing.T, c prometheus.Metric) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	if m.Counter != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestInventoryFetchesAreCountedByResult(t *testing.T) {
	m := New(nil, func() int { return 42 })
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	m.InventoryFetched("ok", at)
	m.InventoryFetched("unchanged", at.Add(time.Hour))
	m.InventoryFetched("failed", at.Add(2*time.Hour))
	m.InventoryFetched("failed", at.Add(3*time.Hour))
	for result, want := range map[string]float64{"ok": 1, "unchanged": 1, "failed": 2} {
		if v := metricValue(t, m.inventoryFetches.WithLabelValues(result)); v != want {
			t.Errorf("inventory_fetches_total{result=%q} = %v, want %v", result, v, want)
		}
	}
	// The last success is the unchanged fetch: failures do not move it.
	if v, want := metricValue(t, m.inventoryFetchSuccess), float64(at.Add(time.Hour).Unix()); v != want {
		t.Errorf("inventory_fetch_last_success_timestamp_seconds = %v, want %v", v, want)
	}
	reg := prometheus.NewPedanticRegistry()
	if err := m.Register(reg); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range families {
		if f.GetName() == "caddy_trusted_endpoints_inventory_entries" {
			found = true
			if v := f.GetMetric()[0].GetGauge().GetValue(); v != 42 {
				t.Errorf("inventory_entries = %v, want 42", v)
			}
		}
	}
	if !found {
		t.Error("inventory_entries is not registered")
	}
}
