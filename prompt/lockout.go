package prompt

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// beginAttempt counts one guess at what key names (a user's password from
// one address) and reports whether it may go ahead. The attempt is recorded
// as a failure before the guess is checked, and cleared only by
// attemptSucceeded, so parallel guesses cannot slip past the limit between a
// check and a write, and guessing on during a lockout keeps it in force.
// The counts live in the store, so the limit holds across every instance
// that shares it.
func (g *Gate) beginAttempt(ctx context.Context, key string) (allowed bool, err error) {
	return g.countUse(ctx, key, g.cfg.LockoutAttempts, g.cfg.LockoutWindow)
}

// beginAttemptLimit is beginAttempt with its own limit over LockoutWindow.
func (g *Gate) beginAttemptLimit(ctx context.Context, key string, limit int) (allowed bool, err error) {
	return g.countUse(ctx, key, limit, g.cfg.LockoutWindow)
}

// countUse records one use of what key names and reports whether at most
// limit uses fall within window, counting this one. It serves lockouts and
// rate limits alike.
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
