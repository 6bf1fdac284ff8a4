package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// Store is what revocations need from storage: the revocations
// themselves. A store that also carries events (store.Notifier) tells the
// other instances.
type Store interface {
	RevokeSession(ctx context.Context, id string, expires time.Time) error
	RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error
	SessionRevocations(ctx context.Context, now time.Time) (store.Revocations, error)
}

// Revocations is an instance's in-memory copy of the sessions ended on the
// server: sessions signed out (by ID) and users' session cutoffs ("sign out
// everywhere", an admin's revocation). A session cookie is self-contained,
// so without it a copy of a signed-out cookie would keep working until it
// expired.
//
// The set answers the per-request check without reading storage. It is
// kept current by the revocations made here, by the store's events
// (ApplyEvent), and by Refresh, which merges what the store holds: at
// start, after lost events, and periodically for stores without events.
// Revocations are never undone, so merging is always safe, and entries
// leave only once the sessions they name have expired.
//
// Share one Revocations between every site of an instance (the
// Config.Revocations of each Keeper) and keep it across reloads. It is safe for concurrent use.
type Revocations struct {
	mu sync.RWMutex
	// sessions maps a revoked session's ID to when it expires.
	sessions map[string]time.Time
	// users maps a user to their cutoff: sessions issued before it (Unix
	// milliseconds) are revoked, until expires.
	users map[string]userCutoff
	// longest is the longest session lifetime of the gates using the set,
	// which bounds how long a user's cutoff matters.
	longest time.Duration
	// unstored are revocations made here while the store was unreachable;
	// Refresh stores them (and tells the other instances) once it is back.
	unstored []store.Event
}

type userCutoff struct {
	beforeMilli int64
	expires     time.Time
}

// fallbackSessionLifetime bounds a user's cutoff before any gate has said
// how long its sessions last.
const fallbackSessionLifetime = 24 * time.Hour

// NewRevocations returns an empty set.
func NewRevocations() *Revocations {
	return &Revocations{sessions: make(map[string]time.Time), users: make(map[string]userCutoff)}
}

// Revoked reports whether s was revoked. It is the per-request check: no
// storage, no allocation, a read lock.
func (r *Revocations) Revoked(s *Session) bool {
	issued := s.issuedMilli()
	r.mu.RLock()
	defer r.mu.RUnlock()
	if _, ok := r.sessions[s.ID]; ok {
		return true
	}
	c, ok := r.users[s.User]
	return ok && issued < c.beforeMilli
}

// Len returns how many sessions and user cutoffs the set holds.
func (r *Revocations) Len() (sessions, users int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.sessions), len(r.users)
}

// noteLifetime records that a gate's sessions last d.
func (r *Revocations) noteLifetime(d time.Duration) {
	r.mu.Lock()
	r.longest = max(r.longest, d)
	r.mu.Unlock()
}

// cutoffExpiry is when a cutoff made at before stops mattering: when the
// last session it may revoke has expired.
func (r *Revocations) cutoffExpiry(before time.Time) time.Time {
	r.mu.RLock()
	longest := r.longest
	r.mu.RUnlock()
	if longest <= 0 {
		longest = fallbackSessionLifetime
	}
	return before.Add(longest)
}

func (r *Revocations) addSession(id string, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addSessionLocked(id, expires)
}

func (r *Revocations) addSessionLocked(id string, expires time.Time) {
	if old, ok := r.sessions[id]; !ok || expires.After(old) {
		r.sessions[id] = expires
	}
}

func (r *Revocations) addUser(user string, before, expires time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.addUserLocked(user, before, expires)
}

func (r *Revocations) addUserLocked(user string, before, expires time.Time) {
	c := r.users[user]
	c.beforeMilli = max(c.beforeMilli, before.UnixMilli())
	if expires.After(c.expires) {
		c.expires = expires
	}
	r.users[user] = c
}

// ApplyEvent applies a revocation another instance announced through the
// store's events, and reports whether e was one.
func (r *Revocations) ApplyEvent(e store.Event) bool {
	switch e.Kind {
	case store.EventSessionRevoked:
		r.addSession(e.ID, e.Time)
	case store.EventUserSessionsRevoked:
		r.addUser(e.ID, e.Time, r.cutoffExpiry(e.Time))
	default:
		return false
	}
	return true
}

// Refresh stores the revocations made here while the store was
// unreachable, merges every revocation the store holds, and forgets those
// that expired before now. Call it at start, after lost events, and
// periodically; never per request.
func (r *Revocations) Refresh(ctx context.Context, st Store, now time.Time) error {
	r.mu.Lock()
	unstored := r.unstored
	r.unstored = nil
	r.mu.Unlock()
	for i, e := range unstored {
		if err := r.storeRevocation(ctx, st, e); err != nil {
			r.mu.Lock()
			r.unstored = append(unstored[i:], r.unstored...)
			r.mu.Unlock()
			return err
		}
		_ = notify(ctx, st, e) // a failure only delays the others until their next refresh
	}
	stored, err := st.SessionRevocations(ctx, now)
	if err != nil {
		return err
	}
	r.merge(stored, now)
	return nil
}

// merge adds the stored revocations and forgets those that expired before
// now, under one lock.
func (r *Revocations) merge(stored store.Revocations, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	longest := r.longest
	if longest <= 0 {
		longest = fallbackSessionLifetime
	}
	for id, expires := range stored.Sessions {
		r.addSessionLocked(id, expires)
	}
	for user, c := range stored.Users {
		r.addUserLocked(user, c.Before, later(c.Expires, c.Before.Add(longest)))
	}
	r.pruneLocked(now)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pruneLocked forgets the revocations of sessions that have expired by
// now. r.mu must be held.
func (r *Revocations) pruneLocked(now time.Time) {
	for id, expires := range r.sessions {
		if expires.Before(now) {
			delete(r.sessions, id)
		}
	}
	for user, c := range r.users {
		if c.expires.Before(now) {
			delete(r.users, user)
		}
	}
}

// RevokeSession ends session id, which expires at expires, on every
// instance: here at once, in the store, and on the others through the
// store's events. If the store fails, the session stays revoked here, a
// later Refresh stores it, and the error is returned.
func (r *Revocations) RevokeSession(ctx context.Context, st Store, id string, expires time.Time) error {
	return r.revoke(ctx, st, store.Event{Kind: store.EventSessionRevoked, ID: id, Time: expires})
}

// RevokeUserSessions ends every session of user issued before before, on
// every instance, as RevokeSession does.
func (r *Revocations) RevokeUserSessions(ctx context.Context, st Store, user string, before time.Time) error {
	return r.revoke(ctx, st, store.Event{Kind: store.EventUserSessionsRevoked, ID: user, Time: before})
}

func (r *Revocations) revoke(ctx context.Context, st Store, e store.Event) error {
	r.ApplyEvent(e)
	if err := r.storeRevocation(ctx, st, e); err != nil {
		r.mu.Lock()
		r.unstored = append(r.unstored, e)
		r.mu.Unlock()
		return err
	}
	return notify(ctx, st, e)
}

// storeRevocation records the revocation that e announces.
func (r *Revocations) storeRevocation(ctx context.Context, st Store, e store.Event) error {
	switch e.Kind {
	case store.EventSessionRevoked:
		return st.RevokeSession(ctx, e.ID, e.Time)
	case store.EventUserSessionsRevoked:
		// The store keeps the cutoff for the longest session lifetime
		// this instance knows; each instance applying the event extends
		// it to the longest it knows.
		return st.RevokeUserSessions(ctx, e.ID, e.Time, r.cutoffExpiry(e.Time))
	}
	return fmt.Errorf("not a revocation: %q", e.Kind)
}

// notify tells the other instances about e, when the store carries
// events. A failure only delays them until their next Refresh.
func notify(ctx context.Context, st Store, e store.Event) error {
	n, ok := st.(store.Notifier)
	if !ok {
		return nil
	}
	if err := n.Notify(ctx, e); err != nil {
		return &notifyError{err}
	}
	return nil
}

// notifyError is a revocation that was stored, but that other instances
// will only learn on their next Refresh.
type notifyError struct{ err error }

func (e *notifyError) Error() string { return "telling other instances: " + e.err.Error() }
func (e *notifyError) Unwrap() error { return e.err }

// IsStoredButNotAnnounced reports whether err, from RevokeSession or
// RevokeUserSessions, means that the revocation is stored but the other
// instances will only learn of it on their next refresh.
func IsStoredButNotAnnounced(err error) bool {
	var ne *notifyError
	return errors.As(err, &ne)
}

// LogRevocationError logs, as what, the outcome of a revocation that
// failed: stored but not announced, or held on this instance only.
func LogRevocationError(logger *zap.Logger, what string, err error, fields ...zap.Field) {
	fields = append(fields, zap.Error(err))
	if IsStoredButNotAnnounced(err) {
		logger.Warn(what+": stored, but other instances only learn of it on their next refresh", fields...)
		return
	}
	logger.Warn(what+": storage unreachable; revoked on this instance, stored once storage is back", fields...)
}

// Interface guards
var _ Store = store.Store(nil)
