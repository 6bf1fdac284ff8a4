package prompt

import (
	"context"
	"net/http"

	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

func (g *Gate) loadTransaction(ctx context.Context, id string) (*device.Transaction, error) {
	return g.devices.Transaction(ctx, id)
}

// transition moves tx from state from to state to with its (changed)
// record; it fails with store.ErrConflict when another request won.
func (g *Gate) transition(ctx context.Context, tx *device.Transaction, from, to, deviceID string) error {
	return g.devices.Transition(ctx, tx, from, to, deviceID)
}

// newTransaction stores a new transaction of kind for the pending login p,
// started by request r, in state.
func (g *Gate) newTransaction(ctx context.Context, r *http.Request, p *pendingLogin, returnTo, kind, state string, rec device.Record) (*device.Transaction, error) {
	access := accessdevice.Classify(r)
	rec.Kind = kind
	rec.BrowserHash = secret.Hash(p.Secret)
	rec.Identity = p.Identity
	rec.Primary = p.Factor
	rec.Return = returnTo
	rec.Access = store.AccessDevice{Kind: access.Kind, OS: access.OS, OSVersion: access.OSVersion, Browser: access.Browser}
	rec.IP = g.cfg.ClientIP(r)
	rec.UserAgent = truncate(r.UserAgent(), maxUserAgent)
	return g.devices.NewTransaction(ctx, p.User, state, rec, session.FlowLifetime)
}

// factorOf is the auth log's factor of a login proven by tx.
func factorOf(tx *device.Transaction) string {
	return tx.Factor()
}

// requestOrigin is the origin (scheme://host) the request came to.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
