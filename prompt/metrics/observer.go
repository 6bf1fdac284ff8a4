package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// Observer is a site's prompt.Observer: it counts the gate's events under
// the site's application name, and logs when the gate starts and stops
// running under its fail mode.
type Observer struct {
	m           *Metrics
	application string
	logger      *zap.Logger
	degraded    prometheus.Gauge
	// inFailMode says whether this observer last saw the gate degraded,
	// so that each change is logged once.
	inFailMode atomic.Bool
}

// Observer returns the observer of a site's gate, which counts under
// application and logs to logger.
func (m *Metrics) Observer(application string, logger *zap.Logger) *Observer {
	m.pending.addApplication(application)
	return &Observer{
		m:           m,
		application: application,
		logger:      logger,
		degraded:    m.degraded.WithLabelValues(application),
	}
}

// LoginRecorded implements prompt.Observer.
func (o *Observer) LoginRecorded(e store.AuthLogEntry) {
	o.m.logins.WithLabelValues(o.application, e.Result, e.Reason, e.Factor, e.TrustStatus).Inc()
	o.storeAnswered()
}

// VerificationStarted implements prompt.Observer.
func (o *Observer) VerificationStarted(id string, expires time.Time) {
	o.m.pending.start(id, o.application, expires)
	o.storeAnswered()
}

// storeAnswered ends the degraded state: the store took a write.
func (o *Observer) storeAnswered() {
	// Another observer of the application (a site before a reload) may
	// have set it: clear it whatever this one saw.
	o.degraded.Set(0)
	if o.inFailMode.CompareAndSwap(true, false) {
		o.logger.Info("storage reachable again: fail mode no longer in effect")
	}
}

// VerificationFinished implements prompt.Observer.
func (o *Observer) VerificationFinished(id string, took time.Duration, result string) {
	o.m.verificationDuration.WithLabelValues(o.application, result).Observe(took.Seconds())
	o.m.pending.finish(id)
}

// PushOutcome implements prompt.Observer.
func (o *Observer) PushOutcome(outcome string) {
	o.m.pushOutcomes.WithLabelValues(o.application, outcome).Inc()
}

// StoreFailed implements prompt.Observer.
func (o *Observer) StoreFailed(op string) {
	o.m.storeErrors.WithLabelValues(o.application, op).Inc()
}

// FailModeActivated implements prompt.Observer (caddymodule/metrics.go
// holds the interface guard, so that this package needs nothing of prompt).
func (o *Observer) FailModeActivated(mode string) {
	o.m.failModeActivations.WithLabelValues(o.application, mode).Inc()
	o.degraded.Set(1)
	if o.inFailMode.CompareAndSwap(false, true) {
		o.logger.Warn("storage unreachable: fail mode in effect", zap.String("fail_mode", mode))
	}
}
