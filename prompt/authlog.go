package prompt

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// maxUserAgent caps how much of a User-Agent the auth log keeps.
const maxUserAgent = 512

// record writes one auth-log entry, filling in the time, application and
// access device from r. It is the one place that writes the auth log. The
// entry is durable when record returns nil, so a caller that grants access
// only after a nil return never grants an unlogged login.
func (g *Gate) record(r *http.Request, e store.AuthLogEntry) error {
	e.Time = g.cfg.Now().UTC()
	e.Application = g.application(r)
	if e.IP == "" {
		e.IP = g.cfg.ClientIP(r)
		e.UserAgent = truncate(r.UserAgent(), maxUserAgent)
	}
	if e.AccessDevice.Kind == "" {
		a := ClassifyAccessDevice(r)
		e.AccessDevice = store.AccessDevice{Kind: a.Kind, OS: a.OS, OSVersion: a.OSVersion, Browser: a.Browser}
	}
	if e.TrustStatus == "" {
		e.TrustStatus = "unknown"
	}
	// Detach from the request: a client that hangs up must not cancel the
	// write of its own login record.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 10*time.Second)
	defer cancel()
	_, err := g.cfg.Store.AppendAuthLog(ctx, e)
	fields := []zap.Field{
		zap.String("user", e.User),
		zap.String("application", e.Application),
		zap.String("result", e.Result),
		zap.String("reason", e.Reason),
		zap.String("factor", e.Factor),
		zap.String("ip", e.IP),
	}
	if e.Mode != "" {
		fields = append(fields, zap.String("trust_status", e.TrustStatus), zap.String("mode", e.Mode),
			zap.Bool("would_block", e.WouldBlock), zap.Strings("failed_requirements", e.FailedRequirements))
	}
	if err != nil {
		g.cfg.Logger.Error("writing auth log", append(fields, zap.Error(err))...)
		return err
	}
	g.cfg.Logger.Info("login", fields...)
	return nil
}

// recordTx records an outcome decided on the device side of transaction tx:
// the request r is the device's, so the access device, IP and user agent
// come from the browser that started tx.
func (g *Gate) recordTx(r *http.Request, tx *transaction, device *store.Device, result, reason, factor string, unbound bool) error {
	e := store.AuthLogEntry{
		User: tx.rec.Identity.User, Email: tx.rec.Identity.Email, Groups: tx.rec.Identity.Groups,
		Result: result, Reason: reason, Factor: factor, Unbound: unbound,
		IP: tx.rec.IP, UserAgent: tx.rec.UserAgent, AccessDevice: tx.rec.Access,
		DeviceFacts: tx.rec.Facts, TrustStatus: string(policy.NotTrusted),
	}
	if g.cfg.Device != nil {
		e.Mode = string(g.cfg.Device.Policy.Mode)
	}
	if device != nil {
		e.DeviceID = device.ID
	}
	if v := tx.rec.Verdict; v != nil {
		e.TrustStatus = string(v.Status())
		e.FailedRequirements = findingReasons(v.Failed)
		e.Warnings = findingReasons(v.Warnings)
	}
	return g.record(r, e)
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
