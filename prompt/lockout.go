package prompt

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Password lockouts count only what went wrong. A password attempt is
// checked against the failures already counted before its password is
// checked, and counted only when the password was wrong (or the attempt
// was refused during a lockout): correct sign-ins, however many run at
// once, never count, and an attempt cut off by a crash leaves nothing
// behind. Attempts for one key run one at a time on an instance
// (attemptLocks), so guesses sent in parallel cannot all pass the check
// before the first is counted; over several instances sharing a store,
// at most one guess per instance is in flight past the limit.

// passwordAttemptAllowed reports whether fewer than LockoutAttempts
// failures are counted under key (a user's password from one address)
// within LockoutWindow. The caller holds g.attempts' lock for key.
func (g *Gate) passwordAttemptAllowed(ctx context.Context, key string) (bool, error) {
	n, err := g.cfg.Store.CountFailures(ctx, key, g.cfg.Now().Add(-g.cfg.LockoutWindow))
	if err != nil {
		return false, err
	}
	return n < g.cfg.LockoutAttempts, nil
}

// attemptFailed counts one failure under key. The guess was wrong, so a
// failure to count it only weakens the lockout: it is logged, not shown.
func (g *Gate) attemptFailed(ctx context.Context, key string) {
	if err := g.cfg.Store.AddFailure(ctx, key, g.cfg.Now()); err != nil {
		g.cfg.Logger.Warn("counting a failed attempt", zap.Error(err))
	}
}

// beginAttemptLimit counts one guess at what key names (a passcode) and
// reports whether it may go ahead, allowing limit guesses over
// LockoutWindow. Unlike passwords, every passcode guess is counted before
// it is checked and cleared only by attemptSucceeded: a six-digit code must
// not be guessed by many requests in parallel, and a correct passcode is
// single-use anyway, so parallel correct ones cannot all succeed.
func (g *Gate) beginAttemptLimit(ctx context.Context, key string, limit int) (allowed bool, err error) {
	return g.countUse(ctx, key, limit, g.cfg.LockoutWindow)
}

// countUse records one use of what key names and reports whether at most
// limit uses fall within window, counting this one. It serves passcode
// lockouts and rate limits.
func (g *Gate) countUse(ctx context.Context, key string, limit int, window time.Duration) (allowed bool, err error) {
	now := g.cfg.Now()
	if err := g.cfg.Store.AddFailure(ctx, key, now); err != nil {
		return false, err
	}
	n, err := g.cfg.Store.CountFailures(ctx, key, now.Add(-window))
	if err != nil {
		return false, err
	}
	return n <= limit, nil
}

// attemptSucceeded forgets the failures counted under key.
func (g *Gate) attemptSucceeded(ctx context.Context, key string) {
	if err := g.cfg.Store.ClearFailures(ctx, key); err != nil {
		g.cfg.Logger.Warn("clearing failed attempts", zap.Error(err))
	}
}
