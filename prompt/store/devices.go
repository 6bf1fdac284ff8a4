package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrConflict is returned when a single-use record was already used, or a
// state transition lost a race: exactly one caller wins, every other one
// gets ErrConflict.
var ErrConflict = errors.New("conflict")

// Device is an activated mobile app: a device key bound to one user.
type Device struct {
	// ID is the RFC 7638 thumbprint of the device's public key; unique.
	ID string `json:"id"`
	// User is the user the device was activated for.
	User string `json:"user"`
	// Realm is the realm the device was activated in (a realm ID as
	// prompt.RealmID gives): a site counts the device only when it is of
	// the site's realm. Empty means not bound (a device activated before
	// devices had realms, or from an admin code issued without one): every
	// site counts it for its user.
	Realm string `json:"realm"`
	// PublicKey is the device's public key as a JWK (ECDSA P-256).
	PublicKey json.RawMessage `json:"public_key"`
	// Platform, Model, OSVersion and AppVersion are what the app said at
	// activation; Model is free text from the device.
	Platform   string `json:"platform"`
	Model      string `json:"model,omitempty"`
	OSVersion  string `json:"os_version,omitempty"`
	AppVersion string `json:"app_version,omitempty"`
	// PasscodeSecret is the device's TOTP secret (base32), provisioned at
	// activation.
	PasscodeSecret string `json:"-"`
	// Created is when the device was activated; LastSeen when it last made
	// a signed request.
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
	// Revoked is when an admin revoked the device; zero while active.
	Revoked time.Time `json:"revoked,omitzero"`
	// Health is the latest health report (the facts as JSON), its verdict
	// (trusted or not trusted) and when it was made; empty before the
	// first report.
	Health     json.RawMessage `json:"health,omitempty"`
	Verdict    string          `json:"verdict,omitempty"`
	VerifiedAt time.Time       `json:"verified_at,omitzero"`
}

// Active reports whether the device has not been revoked.
func (d Device) Active() bool { return d.Revoked.IsZero() }

// Activation is a single-use, short-lived activation code. Only a hash of
// the code is stored, so the store never holds a usable code.
type Activation struct {
	// CodeHash identifies the activation: a hash of the code.
	CodeHash string
	// User is who the device will be bound to.
	User string
	// Realm is the realm the device will be bound to (see Device.Realm);
	// empty for none.
	Realm string
	// Created and Expires bound the code's life.
	Created time.Time
	Expires time.Time
}

// Transaction states.
const (
	TransactionPending   = "pending"   // waiting for the device's health report
	TransactionReported  = "reported"  // report received and evaluated; waiting for approval
	TransactionApproved  = "approved"  // the person approved; the browser may complete
	TransactionDenied    = "denied"    // denied by the person or by policy
	TransactionCompleted = "completed" // the browser completed the login; final
)

// Transaction is one verification transaction: a browser waiting for the
// mobile app to check the device and for the person to approve.
type Transaction struct {
	// ID is random and unguessable; it appears in the deep link.
	ID string
	// User is whom the transaction belongs to; only their devices may
	// answer it.
	User string
	// State is one of the Transaction* constants.
	State string
	// DeviceID is the device that reported for the transaction, once one has.
	DeviceID string
	// Data is the flow's own record (challenge, access device, verdict,
	// return code hash, ...), opaque to the store.
	Data json.RawMessage
	// Created and Expires bound the transaction's life; an expired
	// transaction cannot change state.
	Created time.Time
	Expires time.Time
	// Updated is when the state last changed.
	Updated time.Time
}

// Push states.
const (
	PushPending  = "pending"
	PushApproved = "approved"
	PushDenied   = "denied"
)

// PushWithdrawn is the Answer of a push that was withdrawn because another
// device answered its transaction first (WithdrawPushes). Its State is
// PushDenied, so that no device lists or answers it any more.
const PushWithdrawn = "withdrawn"

// Push is a login request shown in the app for the person to approve or deny.
type Push struct {
	// ID is random and unguessable.
	ID string
	// User and DeviceID say whose app shows it.
	User     string
	DeviceID string
	// TransactionID is the verification the push belongs to.
	TransactionID string
	// State is one of the Push* constants.
	State string
	// Details is what the app shows (application, access device, IP, time,
	// number to match), opaque to the store.
	Details json.RawMessage
	// Answer is the app's reason when it denied (user_cancelled,
	// user_marked_fraud), PushWithdrawn when the push was withdrawn, empty
	// otherwise.
	Answer string
	// Created and Expires bound the push's life; an expired push cannot be
	// answered.
	Created time.Time
	Expires time.Time
}

// DeviceStore is the part of Store that keeps devices, activations,
// verification transactions and pushes.
type DeviceStore interface {
	// CreateActivation stores a new activation code.
	CreateActivation(ctx context.Context, a Activation) error
	// ConsumeActivation uses the activation identified by codeHash once:
	// the first call before it expires returns it, and every other call
	// (already used, expired or unknown) returns ErrNotFound. Exactly one of
	// several concurrent callers wins.
	ConsumeActivation(ctx context.Context, codeHash string, now time.Time) (Activation, error)

	// CreateDevice stores a newly activated device. A device whose ID is
	// already stored gives ErrConflict.
	CreateDevice(ctx context.Context, d Device) error
	// Device returns one device, revoked or not, or ErrNotFound.
	Device(ctx context.Context, id string) (Device, error)
	// UserDevices returns a user's devices, active and revoked, oldest first.
	UserDevices(ctx context.Context, user string) ([]Device, error)
	// RecordHealth stores a device's latest health report and verdict,
	// adds it to the device's health history, and counts as the device
	// being seen at at.
	RecordHealth(ctx context.Context, id string, health json.RawMessage, verdict string, at time.Time) error
	// RevokeDevice marks a device revoked at at. Revoking a revoked device
	// keeps the first time; an unknown device gives ErrNotFound.
	RevokeDevice(ctx context.Context, id string, at time.Time) error
	// ListDevices returns the devices matching q, by ID (see
	// DeviceQuery.AfterID).
	ListDevices(ctx context.Context, q DeviceQuery) ([]Device, error)
	// DeviceHealthHistory returns the health reports RecordHealth stored
	// for the device, newest first, at most limit (zero means 100). An
	// unknown device has none. A device's history keeps its latest
	// HealthHistoryKept reports and is deleted with it.
	DeviceHealthHistory(ctx context.Context, id string, limit int) ([]HealthRecord, error)

	// CreateTransaction stores a new transaction (its State is usually
	// TransactionPending).
	CreateTransaction(ctx context.Context, t Transaction) error
	// Transaction returns one transaction, or ErrNotFound.
	Transaction(ctx context.Context, id string) (Transaction, error)
	// TransitionTransaction moves a transaction from state from to state
	// to, setting DeviceID (when deviceID is not empty) and Data (when data
	// is not nil). It fails with ErrConflict when the transaction is not in
	// state from or has expired at now, and ErrNotFound when it does not
	// exist. Exactly one of several concurrent callers wins.
	TransitionTransaction(ctx context.Context, id, from, to, deviceID string, data json.RawMessage, now time.Time) (Transaction, error)

	// CreatePush stores a new pending push.
	CreatePush(ctx context.Context, p Push) error
	// Push returns one push, or ErrNotFound.
	Push(ctx context.Context, id string) (Push, error)
	// PendingPushes returns the device's pushes still pending and not
	// expired at now, oldest first.
	PendingPushes(ctx context.Context, deviceID string, now time.Time) ([]Push, error)
	// AnswerPush moves a pending, unexpired push of deviceID to state
	// (PushApproved or PushDenied) with answer. It fails with ErrConflict
	// when the push was already answered or has expired, and ErrNotFound
	// when it does not exist or belongs to another device. Exactly one of
	// several concurrent callers wins.
	AnswerPush(ctx context.Context, id, deviceID, state, answer string, now time.Time) (Push, error)
	// WithdrawPushes moves those of the pushes ids that are still pending
	// to PushDenied with Answer PushWithdrawn, and returns how many it
	// moved: once one device answered a login request, the copies sent to
	// the person's other devices are no longer listed or answerable.
	// Unknown IDs and pushes no longer pending are left alone.
	WithdrawPushes(ctx context.Context, ids []string) (int, error)
}

// DeviceQuery filters ListDevices. Zero fields do not filter.
type DeviceQuery struct {
	// User keeps the devices of this user.
	User string
	// Platform keeps the devices of this platform (ios, android).
	Platform string
	// Trusted, when set, keeps the devices whose latest verdict is trusted
	// (true), or every other one, including devices that never reported
	// (false).
	Trusted *bool
	// OSOlderThan keeps devices whose current OS version (see
	// Device.CurrentOSVersion) is older than the version given for their
	// platform, compared as policy.CompareVersions compares; a device of a
	// platform not in the map, or whose version cannot be read, is left
	// out. Versions of different platforms never compare: "17" means
	// nothing to Android.
	OSOlderThan map[string]string
	// SeenBefore and SeenAfter bound when the device was last seen (its
	// activation, for a device never seen since): SeenAfter is inclusive,
	// SeenBefore exclusive.
	SeenBefore time.Time
	SeenAfter  time.Time
	// IncludeRevoked also returns revoked devices, which are left out by
	// default.
	IncludeRevoked bool
	// AfterID returns only devices whose ID sorts after it (cursor
	// pagination). Devices are listed by ID, which never changes, so a
	// device stored, seen or reported between two pages neither repeats
	// nor pushes another off a page. Empty means from the start.
	AfterID string
	// Limit caps the number of devices. Zero means 100.
	Limit int
}

// HealthRecord is one health report of a device, as RecordHealth stored it.
type HealthRecord struct {
	// At is when the report was made.
	At time.Time `json:"at"`
	// Health are the reported facts, as JSON.
	Health json.RawMessage `json:"health,omitempty"`
	// Verdict is trusted or not trusted.
	Verdict string `json:"verdict"`
}

// CurrentOSVersion returns the OS version of the device's latest health
// report, or the one it stated at activation when it has not reported one.
func (d Device) CurrentOSVersion() string {
	var facts struct {
		OSVersion string `json:"os_version"`
	}
	if len(d.Health) > 0 && json.Unmarshal(d.Health, &facts) == nil && facts.OSVersion != "" {
		return facts.OSVersion
	}
	return d.OSVersion
}
