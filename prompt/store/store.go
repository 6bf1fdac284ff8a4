// Package store defines the one storage interface that the gateway's
// interactive flow uses, and the records that pass through it. Backends live
// in subpackages (sqlitestore, and later others); every backend must pass the
// conformance suite in storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when a requested record does not exist.
var ErrNotFound = errors.New("not found")

// Store is everything the gateway keeps between requests and shares between
// instances. Implementations must be safe for concurrent use by many
// goroutines and by several processes sharing the same database.
type Store interface {
	DeviceStore
	SigningKeyStore
	SessionRevocationStore
	ProviderSessionStore
	CookieKeyStore
	FailureStore
	SingleUseStore
	AuthLogStore
	PurgeStore
	InventoryStore

	// Close releases the store's resources.
	Close() error
}

// CookieKeyStore keeps the session-cookie keys, which every instance
// sharing the store uses.
type CookieKeyStore interface {
	// CookieKeys returns every session-cookie key pair, newest first.
	CookieKeys(ctx context.Context) ([]CookieKey, error)

	// InitCookieKeys stores candidate only if the store holds no cookie key
	// yet, and returns the keys now stored, newest first. Two instances that
	// start at once on an empty store therefore agree on one key.
	InitCookieKeys(ctx context.Context, candidate CookieKey) ([]CookieKey, error)

	// AddCookieKey stores a new key pair, which becomes the newest. It is how
	// keys are rotated: older keys stay and still decode.
	AddCookieKey(ctx context.Context, key CookieKey) error
}

// FailureStore counts failed attempts at guessing something (a password,
// later a passcode), for lockouts that hold on every instance.
type FailureStore interface {
	// AddFailure records one failed attempt (a wrong password, later a wrong
	// passcode) under key, which names what is being guessed at (for example
	// "login:alice|192.0.2.1").
	AddFailure(ctx context.Context, key string, at time.Time) error

	// CountFailures returns how many failures were recorded under key at or
	// after since.
	CountFailures(ctx context.Context, key string, since time.Time) (int, error)

	// ClearFailures forgets every failure recorded under key.
	ClearFailures(ctx context.Context, key string) error
}

// SingleUseStore remembers which single-use tokens were consumed.
type SingleUseStore interface {
	// UseOnce records that the single-use token id was consumed. It returns
	// true the first time it is called for id and false on every later call,
	// across all instances, until expires has passed and the record may be
	// purged. Used for OIDC state values and, later, device proof ids.
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
}

// AuthLogStore keeps the auth log: every login attempt and its outcome.
type AuthLogStore interface {
	// AppendAuthLog durably records one authentication event and returns its
	// ID. The entry is on disk (committed) when AppendAuthLog returns.
	AppendAuthLog(ctx context.Context, entry AuthLogEntry) (int64, error)

	// QueryAuthLog returns auth-log entries matching q, newest first.
	QueryAuthLog(ctx context.Context, q AuthLogQuery) ([]AuthLogEntry, error)

	// RolloutImpact sums up the auth-log entries marked WouldBlock that
	// match q: what switching the applications in mode check to block
	// would have refused.
	RolloutImpact(ctx context.Context, q RolloutQuery) (RolloutImpact, error)
}

// PurgeStore deletes what has expired or outlived its retention period.
type PurgeStore interface {
	// Purge deletes expired single-use records and failures older than
	// before. It is called periodically, never on the request hot path.
	Purge(ctx context.Context, before time.Time) error

	// PurgeAuthLog deletes at most limit auth-log entries whose Time is
	// before before, oldest first, and returns how many it deleted. Each
	// call is one short transaction, so that a retention job can work
	// through a large backlog batch by batch, calling it until it returns
	// fewer than limit, without holding a write lock for long. limit must
	// be positive.
	PurgeAuthLog(ctx context.Context, before time.Time, limit int) (int, error)

	// PurgeInactiveDevices deletes at most limit devices whose LastActive
	// is before before, together with their pushes and health history,
	// and returns how many devices it deleted. Like PurgeAuthLog, each
	// call is one short transaction, meant to be repeated until it returns
	// fewer than limit; limit must be positive. A device being seen while
	// the call runs may be kept even if it was inactive when the call
	// began. Transactions the device answered expire on their own, and
	// auth-log entries naming it have their own retention; both are kept.
	PurgeInactiveDevices(ctx context.Context, before time.Time, limit int) (int, error)
}

// CookieKey is one session-cookie key pair for gorilla/securecookie.
type CookieKey struct {
	// ID identifies the key pair; unique within a store.
	ID string
	// HashKey authenticates cookies (HMAC-SHA256); 32 or 64 bytes.
	HashKey []byte
	// BlockKey encrypts cookies (AES-256); 32 bytes.
	BlockKey []byte
	// Created is when the key pair was made; newest keys encode new cookies.
	Created time.Time
}

// Auth-log result values.
const (
	ResultSuccess = "success"
	ResultDenied  = "denied"
	ResultError   = "error"
)

// AuthLogEntry is one row of the auth log: one login attempt and its outcome.
type AuthLogEntry struct {
	ID          int64     `json:"id"`
	Time        time.Time `json:"time"`
	User        string    `json:"user,omitempty"`
	Email       string    `json:"email,omitempty"`
	Groups      []string  `json:"groups,omitempty"`
	Application string    `json:"application,omitempty"`
	// Result is one of success, denied or error.
	Result string `json:"result"`
	// Reason is a short machine-readable code such as user_approved,
	// valid_password, provider_approved, invalid_password, locked_out or
	// invalid_state.
	Reason string `json:"reason,omitempty"`
	// Factor is the login method or second factor: password, oidc, and
	// later mobile_inline, push, passcode.
	Factor string `json:"factor,omitempty"`
	// TrustStatus is trusted, not trusted or unknown.
	TrustStatus string `json:"trust_status,omitempty"`
	IP          string `json:"ip,omitempty"`
	UserAgent   string `json:"user_agent,omitempty"`
	// Detail is free text for operators; never a secret.
	Detail string `json:"detail,omitempty"`
	// Mode is the application's policy mode at the time: off, check or
	// block.
	Mode string `json:"mode,omitempty"`
	// WouldBlock is set in check mode when block mode would have refused
	// this login, so that operators can see what enforcing would change.
	WouldBlock bool `json:"would_block,omitempty"`
	// FailedRequirements are the reason codes of the requirements the
	// device failed, such as no_screen_lock or version_restricted.
	FailedRequirements []string `json:"failed_requirements,omitempty"`
	// Warnings are the reason codes of warn-level findings, which did not
	// refuse the login.
	Warnings []string `json:"warnings,omitempty"`
	// DeviceID identifies the verifying mobile device, if any.
	DeviceID string `json:"device_id,omitempty"`
	// DeviceFacts are the health facts the verifying device reported; the
	// store keeps them as opaque JSON.
	DeviceFacts json.RawMessage `json:"device_facts,omitempty"`
	// AccessDevice is the browser's device as the gateway classified it.
	AccessDevice AccessDevice `json:"access_device,omitzero"`
	// Unbound is set when the login completed without the browser returning
	// through the application's link, which a site may allow for embedded
	// web views.
	Unbound bool `json:"unbound,omitempty"`
	// Integration names the integration that decided the device's trust:
	// mobile (the app checked the phone) or managed (a managed device's
	// certificate vouched for it); empty when none did.
	Integration string `json:"integration,omitempty"`
}

// AccessDevice is the device a browser runs on, as the gateway classified it
// from the request (prompt.ClassifyAccessDevice): what the client claims,
// kept for the log, not proof of anything.
type AccessDevice struct {
	// Kind is iphone, ipad, android_phone, android_tablet, desktop or
	// unknown.
	Kind string `json:"kind,omitempty"`
	// OS is the operating system's name, such as iOS, Android or Windows.
	OS string `json:"os,omitempty"`
	// OSVersion is the version the request states, such as 17.4.1.
	OSVersion string `json:"os_version,omitempty"`
	// Browser is the browser's name, such as Safari or Chrome.
	Browser string `json:"browser,omitempty"`
}

// AuthLogQuery filters QueryAuthLog. Zero fields do not filter.
type AuthLogQuery struct {
	User        string
	Application string
	Result      string
	Reason      string
	Factor      string
	TrustStatus string
	// Integration keeps the entries whose device trust an integration
	// decided: mobile or managed.
	Integration string
	// WouldBlock, when set, returns only entries whose WouldBlock equals
	// it. Nil means no filter.
	WouldBlock *bool
	Since      time.Time
	Until      time.Time
	// BeforeID returns only entries with an ID lower than this (cursor
	// pagination, newest first). Zero means no cursor.
	BeforeID int64
	// Limit caps the number of entries. Zero means 100.
	Limit int
}
