package prompt

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/store"
)

// maxUserAgent caps how much of a User-Agent the auth log keeps.
const maxUserAgent = 512

// record writes one auth-log entry, filling in the time, application and
// access device from r. It and completeAndRecord, which writes the entry
// in one commit with the transaction it proves, are the places that write
// the auth log, both through appendAuthLog. The entry is durable when
// record returns nil, so a caller that grants access only after a nil
// return never grants an unlogged login.
func (g *Gate) record(r *http.Request, e store.AuthLogEntry) error {
	// Detach from the request: a client that hangs up must not cancel the
	// write of its own login record.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	e, err := g.appendAuthLog(ctx, g.completeEntry(r, e))
	if err != nil {
		return err
	}
	g.loginRecorded(e)
	return nil
}

// completeEntry fills in the time, application and access device of e
// from r.
func (g *Gate) completeEntry(r *http.Request, e store.AuthLogEntry) store.AuthLogEntry {
	e.Time = g.cfg.Now().UTC()
	e.Application = g.application(r)
	if e.IP == "" {
		e.IP = g.cfg.ClientIP(r)
		e.UserAgent = truncate(r.UserAgent(), maxUserAgent)
	}
	if e.AccessDevice.Kind == "" {
		a := accessdevice.Classify(r)
		e.AccessDevice = store.AccessDevice{Kind: a.Kind, OS: a.OS, OSVersion: a.OSVersion, Browser: a.Browser}
	}
	if e.TrustStatus == "" {
		e.TrustStatus = "unknown"
	}
	return e
}

// appendAuthLog is record's write of e, completed by completeEntry, for a
// caller that makes it together with others (store.InOneCommit): it
// returns e with its ID, and the caller calls loginRecorded once the write
// is committed.
func (g *Gate) appendAuthLog(ctx context.Context, e store.AuthLogEntry) (store.AuthLogEntry, error) {
	id, err := g.cfg.Store.AppendAuthLog(ctx, e)
	if err != nil {
		g.cfg.Logger.Error("writing auth log", append(authLogFields(e), zap.Error(err))...)
		return e, err
	}
	e.ID = id
	return e, nil
}

// loginRecorded logs and observes an auth-log entry that is stored.
func (g *Gate) loginRecorded(e store.AuthLogEntry) {
	g.cfg.Logger.Info("login", authLogFields(e)...)
	g.observer().LoginRecorded(e)
}

// authLogFields are the structured log fields of an auth-log entry: the
// whole entry, so that every log sink gets what the store keeps.
func authLogFields(e store.AuthLogEntry) []zap.Field {
	fields := make([]zap.Field, 0, 20)
	if e.ID != 0 {
		fields = append(fields, zap.Int64("id", e.ID))
	}
	fields = append(fields,
		zap.String("user", e.User),
		zap.String("application", e.Application),
		zap.String("result", e.Result),
		zap.String("reason", e.Reason),
		zap.String("factor", e.Factor),
		zap.String("trust_status", e.TrustStatus),
		zap.String("ip", e.IP),
	)
	if e.Email != "" {
		fields = append(fields, zap.String("email", e.Email))
	}
	if len(e.Groups) > 0 {
		fields = append(fields, zap.Strings("groups", e.Groups))
	}
	if e.Mode != "" {
		fields = append(fields, zap.String("mode", e.Mode),
			zap.Bool("would_block", e.WouldBlock), zap.Strings("failed_requirements", e.FailedRequirements))
	}
	if len(e.Warnings) > 0 {
		fields = append(fields, zap.Strings("warnings", e.Warnings))
	}
	if e.DeviceID != "" {
		fields = append(fields, zap.String("device_id", e.DeviceID))
	}
	if len(e.DeviceFacts) > 0 {
		// Raw JSON, which the store keeps as it is.
		fields = append(fields, zap.Reflect("device_facts", e.DeviceFacts))
	}
	if e.Unbound {
		fields = append(fields, zap.Bool("unbound", true))
	}
	if e.Detail != "" {
		fields = append(fields, zap.String("detail", e.Detail))
	}
	a := e.AccessDevice
	return append(fields,
		zap.Dict("access_device", zap.String("kind", a.Kind), zap.String("os", a.OS),
			zap.String("os_version", a.OSVersion), zap.String("browser", a.Browser)),
		zap.String("user_agent", e.UserAgent),
	)
}

// recordTx records an outcome decided on the device side of transaction tx:
// the request r is the device's, so the access device, IP and user agent
// come from the browser that started tx.
func (g *Gate) recordTx(r *http.Request, tx *device.Transaction, dev *store.Device, result, reason, factor string, unbound bool) error {
	err := g.record(r, g.txEntry(tx, dev, result, reason, factor, unbound))
	g.txRecorded(tx, result, reason, err)
	return err
}

// txEntry is the auth-log entry of an outcome of tx (recordTx).
func (g *Gate) txEntry(tx *device.Transaction, dev *store.Device, result, reason, factor string, unbound bool) store.AuthLogEntry {
	id := tx.Rec.Identity
	e := store.AuthLogEntry{
		User: id.User, Email: id.Email, Groups: id.Groups,
		Result: result, Reason: reason, Factor: factor, Unbound: unbound,
		IP: tx.Rec.IP, UserAgent: tx.Rec.UserAgent, AccessDevice: tx.Rec.Access,
		DeviceFacts: tx.Rec.Facts, TrustStatus: string(policy.NotTrusted), Integration: integrationMobile,
	}
	if g.cfg.Device != nil {
		e.Mode = string(g.cfg.Device.Policy.Mode)
	}
	if dev != nil {
		e.DeviceID = dev.ID
	}
	if v := tx.Rec.Verdict; v != nil {
		e.TrustStatus = string(v.Status())
		e.FailedRequirements = findingReasons(v.Failed)
		e.Warnings = findingReasons(v.Warnings)
	}
	return e
}

// txRecorded tells the observer that tx ended with result, its record
// written or failed with err. Callers go on whether or not the entry was
// written: the transaction has ended either way.
func (g *Gate) txRecorded(tx *device.Transaction, result, reason string, err error) {
	g.storeFailed("recording login", err)
	g.verificationFinished(tx, result)
	if reason == reasonNoResponse {
		g.observer().PushOutcome(pushNoResponse)
	}
}

// application names the protected application for the auth log and the
// app's login requests.
func (g *Gate) application(r *http.Request) string {
	if g.cfg.Application != "" {
		return g.cfg.Application
	}
	return hostName(r.Host)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

// hostName returns host without its port.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}
