package store

import (
	"context"
	"time"
)

// ProviderSessionStore keeps, per session, what an OIDC sign-in received
// from the provider that the session cookie must not carry: the ID token
// (sent back as id_token_hint at sign-out) and the refresh token (used to
// ask the provider again whether the person may still sign in). It is read
// at sign-out and at each re-check, never per request.
type ProviderSessionStore interface {
	// PutProviderSession stores ps under ps.SessionID, replacing any
	// record of that session.
	PutProviderSession(ctx context.Context, ps ProviderSession) error

	// ProviderSession returns the record of session id, expired or not,
	// or an error wrapping ErrNotFound.
	ProviderSession(ctx context.Context, id string) (ProviderSession, error)

	// DeleteProviderSession forgets session id's record. Deleting a
	// record that does not exist is not an error.
	DeleteProviderSession(ctx context.Context, id string) error
}

// ProviderSession is what an OIDC sign-in keeps on the server for its
// session.
type ProviderSession struct {
	// SessionID is the gateway session's ID.
	SessionID string
	// Tokens is opaque to the store: the gateway keeps the provider's
	// tokens in it encrypted and authenticated with its cookie keys.
	Tokens string
	// Expires is when the session ends anyway: Purge deletes records
	// whose Expires is before its argument.
	Expires time.Time
}
