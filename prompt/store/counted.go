package store

import (
	"context"
	"encoding/json"
	"time"
)

// Counted returns s calling count before each of its calls: the gateway
// wraps the store it hands its request handlers, so that an operator can
// see, as the metric caddy_trusted_endpoints_store_calls_total, that
// signed-in requests read no storage. When s carries events (Notifier), so
// does the store returned, and Notify is counted too.
func Counted(s Store, count func()) Store {
	c := &counted{s: s, count: count}
	if n, ok := s.(Notifier); ok {
		return &countedNotifier{counted: c, n: n}
	}
	return c
}

// counted forwards each method to s after counting it. The methods below
// are the interface's, in alphabetical order; the interface guards at the
// end of the file keep them complete.
type counted struct {
	s     Store
	count func()
}

// countedNotifier is a counted store that also carries events.
type countedNotifier struct {
	*counted
	n Notifier
}

// Notify sends e through the wrapped store, counted.
func (c *countedNotifier) Notify(ctx context.Context, e Event) error {
	c.count()
	return c.n.Notify(ctx, e)
}

// Listen listens through the wrapped store. It is one long call, not
// counted.
func (c *countedNotifier) Listen(ctx context.Context, fn func(Event)) error {
	return c.n.Listen(ctx, fn)
}

// AddCookieKey forwards to the wrapped store.
func (c *counted) AddCookieKey(ctx context.Context, a1 CookieKey) error {
	c.count()
	return c.s.AddCookieKey(ctx, a1)
}

// AddFailure forwards to the wrapped store.
func (c *counted) AddFailure(ctx context.Context, a1 string, a2 time.Time) error {
	c.count()
	return c.s.AddFailure(ctx, a1, a2)
}

// AddSigningKey forwards to the wrapped store.
func (c *counted) AddSigningKey(ctx context.Context, a1 SigningKey) error {
	c.count()
	return c.s.AddSigningKey(ctx, a1)
}

// AnswerPush forwards to the wrapped store.
func (c *counted) AnswerPush(ctx context.Context, a1 string, a2 string, a3 string, a4 string, a5 time.Time) (Push, error) {
	c.count()
	return c.s.AnswerPush(ctx, a1, a2, a3, a4, a5)
}

// AppendAuthLog forwards to the wrapped store.
func (c *counted) AppendAuthLog(ctx context.Context, a1 AuthLogEntry) (int64, error) {
	c.count()
	return c.s.AppendAuthLog(ctx, a1)
}

// ClearFailures forwards to the wrapped store.
func (c *counted) ClearFailures(ctx context.Context, a1 string) error {
	c.count()
	return c.s.ClearFailures(ctx, a1)
}

// Close forwards to the wrapped store.
func (c *counted) Close() error {
	c.count()
	return c.s.Close()
}

// ConsumeActivation forwards to the wrapped store.
func (c *counted) ConsumeActivation(ctx context.Context, a1 string, a2 time.Time) (Activation, error) {
	c.count()
	return c.s.ConsumeActivation(ctx, a1, a2)
}

// CookieKeys forwards to the wrapped store.
func (c *counted) CookieKeys(ctx context.Context) ([]CookieKey, error) {
	c.count()
	return c.s.CookieKeys(ctx)
}

// CountFailures forwards to the wrapped store.
func (c *counted) CountFailures(ctx context.Context, a1 string, a2 time.Time) (int, error) {
	c.count()
	return c.s.CountFailures(ctx, a1, a2)
}

// CreateActivation forwards to the wrapped store.
func (c *counted) CreateActivation(ctx context.Context, a1 Activation) error {
	c.count()
	return c.s.CreateActivation(ctx, a1)
}

// CreateDevice forwards to the wrapped store.
func (c *counted) CreateDevice(ctx context.Context, a1 Device) error {
	c.count()
	return c.s.CreateDevice(ctx, a1)
}

// CreatePush forwards to the wrapped store.
func (c *counted) CreatePush(ctx context.Context, a1 Push) error {
	c.count()
	return c.s.CreatePush(ctx, a1)
}

// CreateTransaction forwards to the wrapped store.
func (c *counted) CreateTransaction(ctx context.Context, a1 Transaction) error {
	c.count()
	return c.s.CreateTransaction(ctx, a1)
}

// DeleteProviderSession forwards to the wrapped store.
func (c *counted) DeleteProviderSession(ctx context.Context, a1 string) error {
	c.count()
	return c.s.DeleteProviderSession(ctx, a1)
}

// Device forwards to the wrapped store.
func (c *counted) Device(ctx context.Context, a1 string) (Device, error) {
	c.count()
	return c.s.Device(ctx, a1)
}

// DeviceHealthHistory forwards to the wrapped store.
func (c *counted) DeviceHealthHistory(ctx context.Context, a1 string, a2 int) ([]HealthRecord, error) {
	c.count()
	return c.s.DeviceHealthHistory(ctx, a1, a2)
}

// InitCookieKeys forwards to the wrapped store.
func (c *counted) InitCookieKeys(ctx context.Context, a1 CookieKey) ([]CookieKey, error) {
	c.count()
	return c.s.InitCookieKeys(ctx, a1)
}

// InitSigningKeys forwards to the wrapped store.
func (c *counted) InitSigningKeys(ctx context.Context, a1 SigningKey) ([]SigningKey, error) {
	c.count()
	return c.s.InitSigningKeys(ctx, a1)
}

// ListDevices forwards to the wrapped store.
func (c *counted) ListDevices(ctx context.Context, a1 DeviceQuery) ([]Device, error) {
	c.count()
	return c.s.ListDevices(ctx, a1)
}

// PendingPushes forwards to the wrapped store.
func (c *counted) PendingPushes(ctx context.Context, a1 string, a2 time.Time) ([]Push, error) {
	c.count()
	return c.s.PendingPushes(ctx, a1, a2)
}

// Purge forwards to the wrapped store.
func (c *counted) Purge(ctx context.Context, a1 time.Time) error {
	c.count()
	return c.s.Purge(ctx, a1)
}

// PurgeAuthLog forwards to the wrapped store.
func (c *counted) PurgeAuthLog(ctx context.Context, a1 time.Time, a2 int) (int, error) {
	c.count()
	return c.s.PurgeAuthLog(ctx, a1, a2)
}

// PurgeInactiveDevices forwards to the wrapped store.
func (c *counted) PurgeInactiveDevices(ctx context.Context, a1 time.Time, a2 int) (int, error) {
	c.count()
	return c.s.PurgeInactiveDevices(ctx, a1, a2)
}

// Push forwards to the wrapped store.
func (c *counted) Push(ctx context.Context, a1 string) (Push, error) {
	c.count()
	return c.s.Push(ctx, a1)
}

// QueryAuthLog forwards to the wrapped store.
func (c *counted) QueryAuthLog(ctx context.Context, a1 AuthLogQuery) ([]AuthLogEntry, error) {
	c.count()
	return c.s.QueryAuthLog(ctx, a1)
}

// RecordHealth forwards to the wrapped store.
func (c *counted) RecordHealth(ctx context.Context, a1 string, a2 json.RawMessage, a3 string, a4 time.Time) error {
	c.count()
	return c.s.RecordHealth(ctx, a1, a2, a3, a4)
}

// RevokeDevice forwards to the wrapped store.
func (c *counted) RevokeDevice(ctx context.Context, a1 string, a2 time.Time) error {
	c.count()
	return c.s.RevokeDevice(ctx, a1, a2)
}

// ProviderSession forwards to the wrapped store.
func (c *counted) ProviderSession(ctx context.Context, a1 string) (ProviderSession, error) {
	c.count()
	return c.s.ProviderSession(ctx, a1)
}

// PutProviderSession forwards to the wrapped store.
func (c *counted) PutProviderSession(ctx context.Context, a1 ProviderSession) error {
	c.count()
	return c.s.PutProviderSession(ctx, a1)
}

// RevokeSession forwards to the wrapped store.
func (c *counted) RevokeSession(ctx context.Context, a1 string, a2 time.Time) error {
	c.count()
	return c.s.RevokeSession(ctx, a1, a2)
}

// RevokeUserSessions forwards to the wrapped store.
func (c *counted) RevokeUserSessions(ctx context.Context, a1 string, a2 time.Time, a3 time.Time) error {
	c.count()
	return c.s.RevokeUserSessions(ctx, a1, a2, a3)
}

// RolloutImpact forwards to the wrapped store.
func (c *counted) RolloutImpact(ctx context.Context, a1 RolloutQuery) (RolloutImpact, error) {
	c.count()
	return c.s.RolloutImpact(ctx, a1)
}

// SessionRevocations forwards to the wrapped store.
func (c *counted) SessionRevocations(ctx context.Context, a1 time.Time) (Revocations, error) {
	c.count()
	return c.s.SessionRevocations(ctx, a1)
}

// SigningKeys forwards to the wrapped store.
func (c *counted) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	c.count()
	return c.s.SigningKeys(ctx)
}

// Transaction forwards to the wrapped store.
func (c *counted) Transaction(ctx context.Context, a1 string) (Transaction, error) {
	c.count()
	return c.s.Transaction(ctx, a1)
}

// TransitionTransaction forwards to the wrapped store.
func (c *counted) TransitionTransaction(ctx context.Context, a1 string, a2 string, a3 string, a4 string, a5 json.RawMessage, a6 time.Time) (Transaction, error) {
	c.count()
	return c.s.TransitionTransaction(ctx, a1, a2, a3, a4, a5, a6)
}

// UseOnce forwards to the wrapped store.
func (c *counted) UseOnce(ctx context.Context, a1 string, a2 time.Time) (bool, error) {
	c.count()
	return c.s.UseOnce(ctx, a1, a2)
}

// UserDevices forwards to the wrapped store.
func (c *counted) UserDevices(ctx context.Context, a1 string) ([]Device, error) {
	c.count()
	return c.s.UserDevices(ctx, a1)
}

// WithdrawPushes forwards to the wrapped store.
func (c *counted) WithdrawPushes(ctx context.Context, a1 []string) (int, error) {
	c.count()
	return c.s.WithdrawPushes(ctx, a1)
}

// Interface guards
var (
	_ Store    = (*counted)(nil)
	_ Store    = (*countedNotifier)(nil)
	_ Notifier = (*countedNotifier)(nil)
)
