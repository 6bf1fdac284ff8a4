package prompt

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Password lockouts are signin.Passwords'. This file holds the counts that
// passcodes and rate limits share.

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
