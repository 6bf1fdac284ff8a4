package device

import (
	"context"
	"encoding/json"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// Store is what the device service keeps in storage: devices and their
// activation codes, transactions, login requests, and single-use values
// and counts (replayed proofs and passcodes, failed activations, the push
// budget).
type Store interface {
	ActivationStore
	DeviceStore
	TransactionStore
	PushStore
	CountStore
}

// DeviceStore keeps activated devices.
type DeviceStore interface {
	ConsumeActivation(ctx context.Context, codeHash string, now time.Time) (store.Activation, error)
	CreateDevice(ctx context.Context, d store.Device) error
	Device(ctx context.Context, id string) (store.Device, error)
	UserDevices(ctx context.Context, user string) ([]store.Device, error)
	RecordHealth(ctx context.Context, id string, health json.RawMessage, verdict string, at time.Time) error
}

// TransactionStore keeps verification transactions.
type TransactionStore interface {
	CreateTransaction(ctx context.Context, t store.Transaction) error
	Transaction(ctx context.Context, id string) (store.Transaction, error)
	TransitionTransaction(ctx context.Context, id, from, to, deviceID string, data json.RawMessage, now time.Time) (store.Transaction, error)
}

// PushStore keeps login requests.
type PushStore interface {
	CreatePush(ctx context.Context, p store.Push) error
	Push(ctx context.Context, id string) (store.Push, error)
	PendingPushes(ctx context.Context, deviceID string, now time.Time) ([]store.Push, error)
	AnswerPush(ctx context.Context, id, deviceID, state, answer string, now time.Time) (store.Push, error)
	WithdrawPushes(ctx context.Context, ids []string) (int, error)
}

// CountStore keeps single-use values and counts.
type CountStore interface {
	UseOnce(ctx context.Context, id string, expires time.Time) (bool, error)
	AddFailure(ctx context.Context, key string, at time.Time) error
	CountFailures(ctx context.Context, key string, since time.Time) (int, error)
}

// Hooks are what the service tells the gate it serves: the auth-log entries
// of outcomes decided on the device side, and what metrics count.
type Hooks interface {
	// RecordTx writes the auth-log entry of an outcome of tx decided on
	// the device side (d, when known, decided it): the access device, IP
	// and user agent are the browser's that started tx. The answer to the
	// device goes on whether or not it was written.
	RecordTx(ctx context.Context, c Caller, tx *Transaction, d *store.Device, result, reason, factor string) error
	// VerificationStarted hears of a new transaction.
	VerificationStarted(id string, expires time.Time)
	// PushAnswered hears of a login request answered with state and
	// reason; PushExpired of one answered too late.
	PushAnswered(state, reason string)
	PushExpired()
	// StoreFailed hears of a store failure while doing what.
	StoreFailed(what string, err error)
}

// Caller describes the device request a service call answers.
type Caller struct {
	// Origin is the scheme and host the request came to.
	Origin string
	// Application names the protected application in login requests.
	Application string
	// IP and UserAgent are the client's.
	IP        string
	UserAgent string
}

// Config configures a Service.
type Config struct {
	Store Store
	// InOneCommit runs fn so that its writes share one commit where the
	// store can (store.InOneCommit). Default: fn alone.
	InOneCommit func(ctx context.Context, fn func(ctx context.Context) error) error
	// Policy is the device policy; PolicyHash identifies it.
	Policy     policy.Policy
	PolicyHash string
	// PushTimeout, ActivationTTL, ActivationAttempts, PushLimit,
	// PushWindow, Enrollment and Origins are prompt.DeviceTrust's, with
	// its defaults filled in.
	PushTimeout        time.Duration
	ActivationTTL      time.Duration
	ActivationAttempts int
	PushLimit          int
	PushWindow         time.Duration
	Enrollment         Enrollment
	Origins            []string
	// LockoutWindow is the period over which failed activations count.
	LockoutWindow time.Duration
	// Realm is the ID of the gate's realm; DeviceRealm the one its
	// prompt binds devices to (may be empty: none). RealmName names a
	// realm for logs.
	Realm       string
	DeviceRealm string
	RealmName   func(id string) string
	// Waker wakes the long-polls of this instance.
	Waker *Waker
	// Seal and Open seal an inline approval's return code with the
	// gateway's keys, so a repeated approval can answer with the same
	// link. Nil Seal: a repeated approval gets already_answered.
	Seal func(code string) (string, error)
	Open func(sealed string) (string, error)
	// Hooks hear of outcomes and failures. Required.
	Hooks  Hooks
	Logger *zap.Logger
	Now    func() time.Time
}

// Service is the device service of one gate.
type Service struct {
	cfg   Config
	st    Store
	hooks Hooks
	log   *zap.Logger
	now   func() time.Time
}

// New returns the Service of cfg.
func New(cfg Config) *Service {
	if cfg.InOneCommit == nil {
		cfg.InOneCommit = func(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RealmName == nil {
		cfg.RealmName = func(id string) string { return id }
	}
	if cfg.Waker == nil {
		cfg.Waker = NewWaker()
	}
	return &Service{cfg: cfg, st: cfg.Store, hooks: cfg.Hooks, log: cfg.Logger, now: cfg.Now}
}

// Waker returns the Waker of the service's long-polls.
func (s *Service) Waker() *Waker { return s.cfg.Waker }

// realmName names the realm whose ID is id, for logs; "none" for an
// unbound device.
func (s *Service) realmName(id string) string {
	if id == "" {
		return "none"
	}
	return s.cfg.RealmName(id)
}

// codeRealm returns the ID of the realm whose devices count for a prompt's
// code bound to realm: that one, or, for a code bound to none (issued
// before codes had realms, or by a gate that binds to none), the gate's.
func (s *Service) codeRealm(realm string) string {
	if realm == "" {
		return s.cfg.Realm
	}
	return realm
}

// ActiveDevices returns user's active devices that count in the realm
// whose ID is realm (InRealm).
func (s *Service) ActiveDevices(ctx context.Context, user, realm string) ([]store.Device, error) {
	all, err := s.st.UserDevices(ctx, user)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, d := range all {
		if d.Active() && InRealm(&d, realm) {
			out = append(out, d)
		}
	}
	return out, nil
}

// countUse records one use of what key names and reports whether at most
// limit uses fall within window, counting this one.
func (s *Service) countUse(ctx context.Context, key string, limit int, window time.Duration) (bool, error) {
	now := s.now()
	if err := s.st.AddFailure(ctx, key, now); err != nil {
		return false, err
	}
	n, err := s.st.CountFailures(ctx, key, now.Add(-window))
	if err != nil {
		return false, err
	}
	return n <= limit, nil
}

// AllowPush counts a login request (or approval request) to user's devices
// against the push budget (PushLimit per PushWindow, against push
// fatigue) and reports whether it may be sent.
func (s *Service) AllowPush(ctx context.Context, user string) (bool, error) {
	return s.countUse(ctx, "push:"+user, s.cfg.PushLimit, s.cfg.PushWindow)
}

var _ Store = store.Store(nil)
