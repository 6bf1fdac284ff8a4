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
// does the store returned, and Notify is counted too. The store returned
// unwraps to s (Wrapper), so InOneCommit still finds s's one commit.
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

// Unwrap returns the store whose calls c counts.
func (c *counted) Unwrap() Store { return c.s }

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

func (c *counted) ActivateInventory(ctx context.Context, id string, at time.Time) error {
	c.count()
	return c.s.ActivateInventory(ctx, id, at)
}

func (c *counted) AddCookieKey(ctx context.Context, key CookieKey) error {
	c.count()
	return c.s.AddCookieKey(ctx, key)
}

func (c *counted) AddFailure(ctx context.Context, key string, at time.Time) error {
	c.count()
	return c.s.AddFailure(ctx, key, at)
}

func (c *counted) AddInventoryEntries(ctx context.Context, id string, entries []InventoryEntry) error {
	c.count()
	return c.s.AddInventoryEntries(ctx, id, entries)
}

func (c *counted) AddSigningKey(ctx context.Context, key SigningKey) error {
	c.count()
	return c.s.AddSigningKey(ctx, key)
}

func (c *counted) AnswerPush(ctx context.Context, id, deviceID, state, answer string, now time.Time) (Push, error) {
	c.count()
	return c.s.AnswerPush(ctx, id, deviceID, state, answer, now)
}

func (c *counted) AppendAuthLog(ctx context.Context, entry AuthLogEntry) (int64, error) {
	c.count()
	return c.s.AppendAuthLog(ctx, entry)
}

func (c *counted) ClearFailures(ctx context.Context, key string) error {
	c.count()
	return c.s.ClearFailures(ctx, key)
}

func (c *counted) Close() error {
	c.count()
	return c.s.Close()
}

func (c *counted) ConsumeActivation(ctx context.Context, codeHash string, now time.Time) (Activation, error) {
	c.count()
	return c.s.ConsumeActivation(ctx, codeHash, now)
}

func (c *counted) CookieKeys(ctx context.Context) ([]CookieKey, error) {
	c.count()
	return c.s.CookieKeys(ctx)
}

func (c *counted) CountFailures(ctx context.Context, key string, since time.Time) (int, error) {
	c.count()
	return c.s.CountFailures(ctx, key, since)
}

func (c *counted) CreateActivation(ctx context.Context, a Activation) error {
	c.count()
	return c.s.CreateActivation(ctx, a)
}

func (c *counted) CreateDevice(ctx context.Context, d Device) error {
	c.count()
	return c.s.CreateDevice(ctx, d)
}

func (c *counted) CreateInventory(ctx context.Context, inv Inventory) error {
	c.count()
	return c.s.CreateInventory(ctx, inv)
}

func (c *counted) CreatePush(ctx context.Context, p Push) error {
	c.count()
	return c.s.CreatePush(ctx, p)
}

func (c *counted) CreateTransaction(ctx context.Context, t Transaction) error {
	c.count()
	return c.s.CreateTransaction(ctx, t)
}

func (c *counted) DeleteInventory(ctx context.Context, id string) error {
	c.count()
	return c.s.DeleteInventory(ctx, id)
}

func (c *counted) DeleteProviderSession(ctx context.Context, id string) error {
	c.count()
	return c.s.DeleteProviderSession(ctx, id)
}

func (c *counted) Device(ctx context.Context, id string) (Device, error) {
	c.count()
	return c.s.Device(ctx, id)
}

func (c *counted) DeviceHealthHistory(ctx context.Context, id string, limit int) ([]HealthRecord, error) {
	c.count()
	return c.s.DeviceHealthHistory(ctx, id, limit)
}

func (c *counted) InitCookieKeys(ctx context.Context, candidate CookieKey) ([]CookieKey, error) {
	c.count()
	return c.s.InitCookieKeys(ctx, candidate)
}

func (c *counted) InitSigningKeys(ctx context.Context, candidate SigningKey) ([]SigningKey, error) {
	c.count()
	return c.s.InitSigningKeys(ctx, candidate)
}

func (c *counted) Inventories(ctx context.Context) ([]Inventory, error) {
	c.count()
	return c.s.Inventories(ctx)
}

func (c *counted) InventoryEntries(ctx context.Context, id string, offset, limit int) ([]InventoryEntry, error) {
	c.count()
	return c.s.InventoryEntries(ctx, id, offset, limit)
}

func (c *counted) ListDevices(ctx context.Context, q DeviceQuery) ([]Device, error) {
	c.count()
	return c.s.ListDevices(ctx, q)
}

func (c *counted) PendingPushes(ctx context.Context, deviceID string, now time.Time) ([]Push, error) {
	c.count()
	return c.s.PendingPushes(ctx, deviceID, now)
}

func (c *counted) ProviderSession(ctx context.Context, id string) (ProviderSession, error) {
	c.count()
	return c.s.ProviderSession(ctx, id)
}

func (c *counted) Purge(ctx context.Context, before time.Time) error {
	c.count()
	return c.s.Purge(ctx, before)
}

func (c *counted) PurgeAuthLog(ctx context.Context, before time.Time, limit int) (int, error) {
	c.count()
	return c.s.PurgeAuthLog(ctx, before, limit)
}

func (c *counted) PurgeInactiveDevices(ctx context.Context, before time.Time, limit int) (int, error) {
	c.count()
	return c.s.PurgeInactiveDevices(ctx, before, limit)
}

func (c *counted) Push(ctx context.Context, id string) (Push, error) {
	c.count()
	return c.s.Push(ctx, id)
}

func (c *counted) PutProviderSession(ctx context.Context, ps ProviderSession) error {
	c.count()
	return c.s.PutProviderSession(ctx, ps)
}

func (c *counted) QueryAuthLog(ctx context.Context, q AuthLogQuery) ([]AuthLogEntry, error) {
	c.count()
	return c.s.QueryAuthLog(ctx, q)
}

func (c *counted) RecordHealth(ctx context.Context, id string, health json.RawMessage, verdict string, at time.Time) error {
	c.count()
	return c.s.RecordHealth(ctx, id, health, verdict, at)
}

func (c *counted) RestorePreviousInventory(ctx context.Context, at time.Time) (Inventory, error) {
	c.count()
	return c.s.RestorePreviousInventory(ctx, at)
}

func (c *counted) RevokeDevice(ctx context.Context, id string, at time.Time) error {
	c.count()
	return c.s.RevokeDevice(ctx, id, at)
}

func (c *counted) RevokeSession(ctx context.Context, id string, expires time.Time) error {
	c.count()
	return c.s.RevokeSession(ctx, id, expires)
}

func (c *counted) RevokeUserSessions(ctx context.Context, user string, before, expires time.Time) error {
	c.count()
	return c.s.RevokeUserSessions(ctx, user, before, expires)
}

func (c *counted) RolloutImpact(ctx context.Context, q RolloutQuery) (RolloutImpact, error) {
	c.count()
	return c.s.RolloutImpact(ctx, q)
}

func (c *counted) SessionRevocations(ctx context.Context, now time.Time) (Revocations, error) {
	c.count()
	return c.s.SessionRevocations(ctx, now)
}

func (c *counted) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	c.count()
	return c.s.SigningKeys(ctx)
}

func (c *counted) Transaction(ctx context.Context, id string) (Transaction, error) {
	c.count()
	return c.s.Transaction(ctx, id)
}

func (c *counted) TransitionTransaction(ctx context.Context, id, from, to, deviceID string, data json.RawMessage, now time.Time) (Transaction, error) {
	c.count()
	return c.s.TransitionTransaction(ctx, id, from, to, deviceID, data, now)
}

func (c *counted) UseOnce(ctx context.Context, id string, expires time.Time) (bool, error) {
	c.count()
	return c.s.UseOnce(ctx, id, expires)
}

func (c *counted) UserDevices(ctx context.Context, user string) ([]Device, error) {
	c.count()
	return c.s.UserDevices(ctx, user)
}

func (c *counted) WithdrawPushes(ctx context.Context, ids []string) (int, error) {
	c.count()
	return c.s.WithdrawPushes(ctx, ids)
}

// Interface guards
var (
	_ Store    = (*counted)(nil)
	_ Wrapper  = (*counted)(nil)
	_ Store    = (*countedNotifier)(nil)
	_ Notifier = (*countedNotifier)(nil)
)
