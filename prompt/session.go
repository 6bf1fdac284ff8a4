package prompt

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// This file is the gate's side of package session: the gate holds a
// session.Keeper (g.sessions) and its login flows (g.flows), and asks them
// for everything about the session and login-flow cookies.

// flow is the gate's login flow: its pending part is the device check in
// progress.
type flow = session.Flow[pendingLogin]

// initSessions builds the gate's session keeper and login flows from its
// Config, in the realm cfg.Realm (its default when empty).
func (g *Gate) initSessions() error {
	if g.cfg.Realm == "" {
		g.cfg.Realm = defaultRealm(g.cfg)
	}
	k, err := session.NewKeeper(session.Config{
		Codec:       g.cfg.Cookies,
		CacheSize:   g.cfg.SessionCacheSize,
		Realm:       g.cfg.Realm,
		RealmName:   g.cfg.RealmName,
		Revocations: g.cfg.Revocations,
		Lifetime:    g.cfg.SessionLifetime,
		Now:         g.cfg.Now,
		Logger:      g.cfg.Logger,
		ClientIP:    g.cfg.ClientIP,
	})
	if err != nil {
		return err
	}
	g.sessions, g.flows = k, session.FlowsOf[pendingLogin](k)
	g.realmID = k.RealmID()
	return nil
}

// defaultRealm is the realm of a gate configured without one: the OIDC
// provider, or a realm of its own for a users file.
func defaultRealm(cfg Config) string {
	if cfg.OIDC != nil {
		return session.OIDCRealm(cfg.OIDC.Issuer(), cfg.OIDC.ClientID())
	}
	return "users_file:unnamed-" + secret.Token()
}

// readSession returns the session of r, or nil (see session.Keeper.Read).
func (g *Gate) readSession(r *http.Request) *session.Session {
	return g.sessions.Read(r)
}

// checkSession is readSession for a request that the gate answers or lets
// through: the cookie of a revoked session is also cleared.
func (g *Gate) checkSession(w http.ResponseWriter, r *http.Request) *session.Session {
	return g.sessions.Check(w, r)
}

// startSession issues a session cookie for id; trust is nil when no device
// check applies, and is recorded under the gate's policy.
func (g *Gate) startSession(w http.ResponseWriter, r *http.Request, id session.Identity, factor string, trust *session.Trust) (*session.Session, error) {
	if trust != nil {
		t := *trust
		t.PolicyHash = g.policyHash
		trust = &t
	}
	return g.sessions.Start(w, r, id, factor, trust)
}

// endSession clears the session cookie.
func (g *Gate) endSession(w http.ResponseWriter, r *http.Request) {
	g.sessions.End(w, r)
}

// newFlow returns a login flow back to returnTo, once made safe.
func (g *Gate) newFlow(returnTo string) *flow {
	return g.flows.New(SafeReturn(returnTo))
}

func (g *Gate) setFlow(w http.ResponseWriter, r *http.Request, f *flow) error {
	return g.flows.Set(w, r, f)
}

// readFlow returns the request's login flow, or nil when there is none, it
// is forged or expired, or it began in another realm.
func (g *Gate) readFlow(r *http.Request) *flow {
	f := g.flows.Read(r)
	if f != nil {
		f.Return = SafeReturn(f.Return)
	}
	return f
}

func (g *Gate) clearFlow(w http.ResponseWriter, r *http.Request) {
	g.flows.Clear(w, r)
}

// trustHolds reports whether the session's device trust still counts for
// r: it was decided under the current policy, has not expired, and the
// device that vouched for it has not been revoked; a managed device's
// trust also needs r's connection to present its certificate while the
// active inventory holds it (certificateHolds). A decision in the trust
// cache answers without storage; only a miss (after a restart, an eviction
// or a revocation) reads the device.
func (g *Gate) trustHolds(r *http.Request, s *session.Session) bool {
	d := g.cfg.Device
	if s.Trust == "" || s.PolicyHash != g.policyHash || !g.cfg.Now().Before(time.Unix(s.TrustExpiresAt, 0)) {
		return false
	}
	if s.DeviceCertificate != "" {
		return g.certificateHolds(r, s)
	}
	ctx := r.Context()
	if s.DeviceID == "" {
		return true
	}
	if _, ok := d.Cache.Get(s.User, s.DeviceID, g.trustScope); ok {
		return true
	}
	dev, err := g.cfg.Store.Device(ctx, s.DeviceID)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		// Storage is unreachable: a session whose trust has not expired
		// keeps working, as in every fail mode, unless this instance knows
		// the device was revoked; it is checked again once its trust
		// expires.
		if d.Cache.WasRevoked(s.DeviceID) {
			return false
		}
		g.cfg.Logger.Warn("storage unreachable: keeping the session's device trust", zap.String("device_id", s.DeviceID), zap.Error(err))
		return true
	}
	if !dev.Active() || dev.User != s.User || !g.ownsDevice(&dev) {
		return false
	}
	d.Cache.Put(s.User, s.DeviceID, g.trustScope, device.TrustDecision{
		Status: s.Trust, Failed: s.Failed, Warnings: s.Warnings, Expires: time.Unix(s.TrustExpiresAt, 0),
	})
	return true
}
