package store

import (
	"context"
	"time"
)

// Event kinds of session revocation; see SessionRevocationStore.
const (
	// EventSessionRevoked: session ID was revoked; Event.Time is when the
	// session expires anyway.
	EventSessionRevoked = "session_revoked"
	// EventUserSessionsRevoked: every session of user ID issued before
	// Event.Time was revoked.
	EventUserSessionsRevoked = "user_sessions_revoked"
)

// SessionRevocationStore keeps the sessions that were ended on the server
// (a sign-out, a "sign out everywhere", an admin's revocation), so that a
// session cookie, which is otherwise self-contained, stops working on every
// instance. Instances keep the revocations in memory and read them from the
// store only when they start, after lost events and periodically, never
// per request.
type SessionRevocationStore interface {
	// RevokeSession records that session id is revoked. expires is when
	// the session would have ended anyway: after it the record may be
	// purged. Revoking a revoked session keeps the later expiry.
	RevokeSession(ctx context.Context, id string, expires time.Time) error

	// RevokeUserSessions records that every session of user issued before
	// before is revoked. expires is when the last such session would have
	// ended anyway: after it the record may be purged. A user has one
	// cutoff: an earlier before than the stored one changes nothing, and
	// the later of the two expiries is kept.
	RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error

	// SessionRevocations returns every revocation whose expiry is after now.
	// Store.Purge deletes those whose expiry is before its argument.
	SessionRevocations(ctx context.Context, now time.Time) (Revocations, error)
}

// Revocations are the session revocations in force.
type Revocations struct {
	// Sessions maps each revoked session's ID to when it expires.
	Sessions map[string]time.Time
	// Users maps a user to their cutoff: their sessions issued before it
	// are revoked.
	Users map[string]UserCutoff
}

// UserCutoff is one user's session cutoff.
type UserCutoff struct {
	// Before: the user's sessions issued before it are revoked.
	Before time.Time
	// Expires is when every such session has ended anyway.
	Expires time.Time
}
