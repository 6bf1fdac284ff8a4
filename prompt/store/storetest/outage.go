package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/trustgate/trustgate/prompt/store"
)

// ErrOutage is what a store made unreachable by a test answers, as a
// database that refuses connections would.
var ErrOutage = errors.New("connection refused")

// RevocationOutage wraps a real store so that a test can make its session
// revocation calls fail (Down.Store(true)) while everything else works.
type RevocationOutage struct {
	store.Store
	Down atomic.Bool
}

// RevokeSession fails with ErrOutage while the store is down.
func (s *RevocationOutage) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	if s.Down.Load() {
		return ErrOutage
	}
	return s.Store.RevokeSession(ctx, id, expires)
}

// RevokeUserSessions fails with ErrOutage while the store is down.
func (s *RevocationOutage) RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error {
	if s.Down.Load() {
		return ErrOutage
	}
	return s.Store.RevokeUserSessions(ctx, user, before, expires)
}

// SessionRevocations fails with ErrOutage while the store is down.
func (s *RevocationOutage) SessionRevocations(ctx context.Context, now time.Time) (store.Revocations, error) {
	if s.Down.Load() {
		return store.Revocations{}, ErrOutage
	}
	return s.Store.SessionRevocations(ctx, now)
}
