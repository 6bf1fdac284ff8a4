package prompt

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

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
	e.Application = g.cfg.Application
	if e.Application == "" {
		e.Application = hostName(r.Host)
	}
	e.IP = g.cfg.ClientIP(r)
	e.UserAgent = truncate(r.UserAgent(), maxUserAgent)
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
	if err != nil {
		g.cfg.Logger.Error("writing auth log", append(fields, zap.Error(err))...)
		return err
	}
	g.cfg.Logger.Info("login", fields...)
	return nil
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
