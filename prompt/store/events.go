package store

import (
	"context"
	"time"
)

// Event kinds.
const (
	// EventPush: a login request was sent to device ID; its long-polls
	// should look again.
	EventPush = "push"
	// EventRevoke: device ID was revoked; every cached trust decision made
	// with it must stop counting.
	EventRevoke = "revoke"
	// EventResync: the listener lost events (its connection dropped and
	// came back); whatever was cached from events must be re-read.
	EventResync = "resync"
)

// Event is a change that every gateway instance sharing a store must hear
// about at once.
type Event struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
	// Time is the time an event kind needs, if any (a revoked session's
	// expiry, a user's session cutoff).
	Time time.Time `json:"time,omitzero"`
}

// Notifier is implemented by stores that instances share over a network
// and that can carry events between them (PostgreSQL with LISTEN/NOTIFY).
// A store used by one instance needs none: its events stay in-process.
type Notifier interface {
	// Notify sends e to every listening instance, this one included.
	Notify(ctx context.Context, e Event) error
	// Listen calls fn for each event until ctx ends, reconnecting after a
	// lost connection; after a reconnect it calls fn with an EventResync
	// first, since events sent meanwhile are lost. It returns ctx's error.
	Listen(ctx context.Context, fn func(Event)) error
}
