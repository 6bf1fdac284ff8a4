package runtime

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// Retention says how long records that grow without bound are kept: an
// auth-log entry after the attempt it records, a device after it was last
// active. Zero keeps them forever.
type Retention struct {
	AuthLog, InactiveDevices time.Duration
}

// Default retention periods.
const (
	DefaultAuthLogRetention        = 180 * 24 * time.Hour
	DefaultInactiveDeviceRetention = 30 * 24 * time.Hour
)

// Retention runs. A batch deletes a few thousand rows at most, so SQLite's
// write lock is held for milliseconds, and the pause between batches lets
// logins waiting for it go first. The time limit bounds one run; what a
// large backlog leaves over goes at the next run, an hour later.
const (
	retentionInterval  = time.Hour
	retentionFirstRun  = time.Minute
	retentionBatchSize = 1000
	retentionPause     = 100 * time.Millisecond
	retentionTimeLimit = 10 * time.Minute
)

// cutoffs returns the instants before which records go at now; the zero
// time for a kind kept forever.
func (p Retention) cutoffs(now time.Time) retentionCutoffs {
	var c retentionCutoffs
	if p.AuthLog > 0 {
		c.authLog = now.Add(-p.AuthLog)
	}
	if p.InactiveDevices > 0 {
		c.inactiveDevices = now.Add(-p.InactiveDevices)
	}
	return c
}

// retentionCutoffs are the instants before which records are deleted: auth
// log entries older than authLog, and devices last active before
// inactiveDevices. A zero time deletes nothing of that kind.
type retentionCutoffs struct {
	authLog, inactiveDevices time.Time
}

// retentionBatches is how a retention run proceeds: rows per batch, and
// the pause between two batches.
type retentionBatches struct {
	size  int
	pause time.Duration
}

// applyRetention deletes what cutoffs say from st, batch by batch, and
// returns how many auth-log entries and devices went. Devices go first:
// they are few, and a large auth-log backlog that reaches ctx's deadline
// must not hold them back. An error in one kind does not stop the other;
// the counts are of what went before any error.
func applyRetention(ctx context.Context, st store.PurgeStore, cutoffs retentionCutoffs, batches retentionBatches) (authLog, devices int, err error) {
	var errs []error
	if !cutoffs.inactiveDevices.IsZero() {
		devices, err = purgeInBatches(ctx, batches, func(ctx context.Context, limit int) (int, error) {
			return st.PurgeInactiveDevices(ctx, cutoffs.inactiveDevices, limit)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("purging inactive devices: %w", err))
		}
	}
	if !cutoffs.authLog.IsZero() {
		authLog, err = purgeInBatches(ctx, batches, func(ctx context.Context, limit int) (int, error) {
			return st.PurgeAuthLog(ctx, cutoffs.authLog, limit)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("purging auth log: %w", err))
		}
	}
	return authLog, devices, errors.Join(errs...)
}

// purgeInBatches calls purge with batches.size as the limit until it
// deletes fewer rows than that, pausing between calls, and returns the
// total deleted. It stops at the first error, or when ctx ends, returning
// the total so far with the error.
func purgeInBatches(ctx context.Context, batches retentionBatches, purge func(ctx context.Context, limit int) (int, error)) (int, error) {
	total := 0
	for {
		n, err := purge(ctx, batches.size)
		total += n
		if err != nil {
			return total, err
		}
		if n < batches.size {
			return total, nil
		}
		timer := time.NewTimer(batches.pause)
		select {
		case <-ctx.Done():
			timer.Stop()
			return total, ctx.Err()
		case <-timer.C:
		}
	}
}

// retainEvery applies the retention settings every interval until ctx
// ends. It runs beside maintain's loop rather than in it, so that a long
// run never delays rereading the cookie keys.
// The first run comes retentionFirstRun after start (or after interval, if
// that is shorter), so that a gateway restarted more often than hourly still
// purges, without slowing its start.
func (s *Shared) retainEvery(ctx context.Context, interval time.Duration) {
	next := time.NewTimer(min(interval, retentionFirstRun))
	defer next.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-next.C:
			s.retain(ctx, time.Now())
			next.Reset(interval)
		}
	}
}

// retain runs retention once, as of now, within retentionTimeLimit, and
// logs what went.
func (s *Shared) retain(ctx context.Context, now time.Time) {
	cutoffs := s.Retention().cutoffs(now)
	if cutoffs.authLog.IsZero() && cutoffs.inactiveDevices.IsZero() {
		return
	}
	runCtx, cancel := context.WithTimeout(ctx, retentionTimeLimit)
	defer cancel()
	authLog, devices, err := applyRetention(runCtx, s.store, cutoffs,
		retentionBatches{size: retentionBatchSize, pause: retentionPause})
	fields := []zap.Field{zap.Int("auth_log_entries", authLog), zap.Int("devices", devices)}
	switch {
	case err != nil && ctx.Err() != nil:
		// The state is being closed; nothing went wrong.
	case err != nil && errors.Is(err, context.DeadlineExceeded):
		s.logger.Info("retention reached its time limit; the rest goes at the next run",
			append(fields, zap.Duration("time_limit", retentionTimeLimit))...)
	case err != nil:
		s.logger.Warn("retention", append(fields, zap.Error(err))...)
	case authLog > 0 || devices > 0:
		s.logger.Info("retention deleted old records", fields...)
	}
}

// SetRetention makes r the retention settings of later runs.
func (s *Shared) SetRetention(r Retention) {
	s.mu.Lock()
	s.retention = r
	s.mu.Unlock()
}

// Retention returns the retention settings in force.
func (s *Shared) Retention() Retention {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retention
}
