package prompt

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/store"
)

// Session is the content of the session cookie. It is self-contained, so a
// signed-in request needs no storage lookup.
type Session struct {
	Identity
	// ID identifies this session, for logs and revocation.
	ID string `json:"id"`
	// Factor is how the user signed in: password or oidc.
	Factor string `json:"f"`
	// IssuedAt and ExpiresAt are Unix seconds.
	IssuedAt  int64 `json:"iat"`
	ExpiresAt int64 `json:"exp"`
	// IssuedAtMilli is IssuedAt in Unix milliseconds, so that a session
	// begun just after a "sign out everywhere" is not taken for one begun
	// just before; zero in cookies made before it existed.
	IssuedAtMilli int64 `json:"im,omitempty"`
	// CSRF is the token that the session's own forms (logout) must carry.
	CSRF string `json:"c"`
	// Realm is the ID (RealmID) of the realm the session was issued in;
	// only gates of that realm accept it. Empty in cookies made before
	// realms, which no gate accepts.
	Realm string `json:"r"`

	// Trust is the access device's trust status when the session began or
	// was last checked: trusted, not trusted or unknown; empty when no
	// device check applies (mode off).
	Trust string `json:"t,omitempty"`
	// DeviceID is the mobile device that vouched for the access device, if
	// any; its revocation ends the trust at once.
	DeviceID string `json:"d,omitempty"`
	// PolicyHash is the hash of the device policy the trust was decided
	// under; a changed policy decides again.
	PolicyHash string `json:"ph,omitempty"`
	// TrustExpiresAt (Unix seconds) is when the device must be checked again.
	TrustExpiresAt int64 `json:"te,omitempty"`
	// Failed and Warnings are the reason codes of the requirements the
	// device failed or was warned about.
	Failed   []string `json:"fr,omitempty"`
	Warnings []string `json:"wr,omitempty"`

	// joinedGroups is Groups joined by commas, worked out once for a
	// session kept in the session cache; see JoinedGroups.
	joinedGroups string
}

// JoinedGroups returns the user's groups joined by commas, as the identity
// header and the placeholders carry them.
func (s *Session) JoinedGroups() string {
	if s.joinedGroups != "" || len(s.Groups) == 0 {
		return s.joinedGroups
	}
	return strings.Join(s.Groups, ",")
}

// Expires returns when the session ends.
func (s *Session) Expires() time.Time { return time.Unix(s.ExpiresAt, 0) }

// issuedMilli is when the session began, in Unix milliseconds; for a cookie
// without IssuedAtMilli, the start of its IssuedAt second, so that a cutoff
// within that second revokes it.
func (s *Session) issuedMilli() int64 {
	if s.IssuedAtMilli != 0 {
		return s.IssuedAtMilli
	}
	return s.IssuedAt * 1000
}

// readSession decodes the session cookie of r. It returns nil when there is
// none, when it is forged, tampered or made with an unknown key, when it
// has expired, when it was issued in another realm, and when it was
// revoked.
func (g *Gate) readSession(r *http.Request) *Session {
	s, _ := g.decodeSession(r)
	return s
}

// checkSession is readSession for a request that the gate answers or lets
// through: the cookie of a revoked session is also cleared, so the browser
// stops sending it.
func (g *Gate) checkSession(w http.ResponseWriter, r *http.Request) *Session {
	s, revoked := g.decodeSession(r)
	if revoked {
		g.endSession(w, r)
		if ce := g.cfg.Logger.Check(zap.DebugLevel, "revoked session refused"); ce != nil {
			ce.Write(zap.String("ip", g.cfg.ClientIP(r)))
		}
	}
	return s
}

// decodeSession returns the session of r, as readSession does, and reports
// whether a cookie was refused because its session was revoked. Decoding
// may be answered by the session cache; the checks after it run on every
// request. It is the only place a session cookie is read, so no page can
// skip the realm check: a session of another realm (or of none) is logged
// once and counts as no session; its cookie is left alone, since it may be
// good on the site that issued it.
func (g *Gate) decodeSession(r *http.Request) (s *Session, revoked bool) {
	name := cookieName(r, sessionCookie)
	value, ok := requestCookie(r, name)
	if !ok {
		return nil, false
	}
	var err error
	if s, err = g.sessions.decode(name, value); err != nil {
		g.logRefusedCookie(r, sessionCookie, err)
		return nil, false
	}
	if s.User == "" || s.ExpiresAt == 0 || !g.cfg.Now().Before(s.Expires()) {
		return nil, false
	}
	if s.Realm != g.realm.id {
		g.logForeignSession(r, s)
		return nil, false
	}
	if g.cfg.Revocations.Revoked(s) {
		return nil, true
	}
	return s, false
}

// readCookie decodes the gateway cookie called base into dst. It reports
// false when the request has none, and when it is forged, tampered with,
// made for another cookie or made with a key the gateway does not hold.
func (g *Gate) readCookie(r *http.Request, base string, dst any) bool {
	name := cookieName(r, base)
	value, ok := requestCookie(r, name)
	if !ok {
		return false
	}
	if err := g.cfg.Cookies.Decode(name, value, dst); err != nil {
		g.logRefusedCookie(r, base, err)
		return false
	}
	return true
}

// logRefusedCookie logs, at debug level, why the cookie called base was
// refused.
func (g *Gate) logRefusedCookie(r *http.Request, base string, err error) {
	if ce := g.cfg.Logger.Check(zap.DebugLevel, "cookie refused"); ce != nil {
		ce.Write(zap.String("cookie", base), zap.String("cause", err.Error()), zap.String("ip", g.cfg.ClientIP(r)))
	}
}

// sessionTrust is the device-trust part of a new session.
type sessionTrust struct {
	Status, DeviceID string
	Failed, Warnings []string
	Expires          time.Time
}

// startSession issues a session cookie for id; trust is nil when no device
// check applies.
func (g *Gate) startSession(w http.ResponseWriter, r *http.Request, id Identity, factor string, trust *sessionTrust) (*Session, error) {
	now := g.cfg.Now()
	s := &Session{
		Identity:      id,
		ID:            secret.Token(),
		Factor:        factor,
		IssuedAt:      now.Unix(),
		ExpiresAt:     now.Add(g.cfg.SessionLifetime).Unix(),
		CSRF:          secret.Token(),
		IssuedAtMilli: now.UnixMilli(),
		Realm:         g.realm.id,
	}
	if trust != nil {
		s.Trust, s.DeviceID, s.Failed, s.Warnings = trust.Status, trust.DeviceID, trust.Failed, trust.Warnings
		s.PolicyHash, s.TrustExpiresAt = g.policyHash, trust.Expires.Unix()
	}
	name := cookieName(r, sessionCookie)
	value, err := g.cfg.Cookies.Encode(name, s)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, newCookie(r, sessionCookie, value, int(g.cfg.SessionLifetime/time.Second)))
	return s, nil
}

// trustHolds reports whether the session's device trust still counts: it
// was decided under the current policy, has not expired, and the device
// that vouched for it has not been revoked. A decision in the trust cache
// answers without storage; only a miss (after a restart, an eviction or a
// revocation) reads the device.
func (g *Gate) trustHolds(ctx context.Context, s *Session) bool {
	d := g.cfg.Device
	if s.Trust == "" || s.PolicyHash != g.policyHash || !g.cfg.Now().Before(time.Unix(s.TrustExpiresAt, 0)) {
		return false
	}
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
	d.Cache.Put(s.User, s.DeviceID, g.trustScope, TrustDecision{
		Status: s.Trust, Failed: s.Failed, Warnings: s.Warnings, Expires: time.Unix(s.TrustExpiresAt, 0),
	})
	return true
}

// endSession clears the session cookie.
func (g *Gate) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, newCookie(r, sessionCookie, "", -1))
}
