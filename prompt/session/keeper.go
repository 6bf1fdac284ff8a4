package session

import (
	"errors"
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
)

// Config configures a Keeper.
type Config struct {
	// Codec encodes the session and login-flow cookies. Required.
	Codec *CookieCodec
	// CacheSize is how many decoded session cookies to keep in memory
	// (see cache). Default: DefaultCacheSize; negative turns the cache
	// off.
	CacheSize int
	// Realm names where the Keeper's sessions are valid (see RealmID).
	// Required.
	Realm string
	// RealmName names another realm by its ID, for the log line of a
	// refused session. Default: the ID alone.
	RealmName func(id string) string
	// Revocations are the sessions ended on the server, checked on every
	// read. Default: a set of this Keeper's own.
	Revocations *Revocations
	// Lifetime is how long a session lasts. Required.
	Lifetime time.Duration
	// Now is the clock. Default: time.Now.
	Now func() time.Time
	// Logger receives refused cookies (debug) and foreign sessions
	// (info). Default: no-op.
	Logger *zap.Logger
	// ClientIP returns the client's IP address for r, for logs. Default:
	// r.RemoteAddr.
	ClientIP func(r *http.Request) string
}

// Keeper reads, starts and ends sessions: it is the one owner of the
// session cookie, and of the login-flow cookie (Flows). It is safe for
// concurrent use.
type Keeper struct {
	codec       *CookieCodec
	cache       *cache
	realm       *realmGuard
	revocations *Revocations
	lifetime    time.Duration
	now         func() time.Time
	logger      *zap.Logger
	clientIP    func(r *http.Request) string
}

// NewKeeper checks cfg, fills in defaults and returns a Keeper.
func NewKeeper(cfg Config) (*Keeper, error) {
	if cfg.Codec == nil {
		return nil, errors.New("no cookie codec")
	}
	if cfg.Realm == "" {
		return nil, errors.New("no session realm")
	}
	if cfg.Lifetime <= 0 {
		return nil, errors.New("no session lifetime")
	}
	k := &Keeper{
		codec: cfg.Codec, revocations: cfg.Revocations, lifetime: cfg.Lifetime,
		now: cfg.Now, logger: cfg.Logger, clientIP: cfg.ClientIP,
	}
	if k.revocations == nil {
		k.revocations = NewRevocations()
	}
	k.revocations.noteLifetime(cfg.Lifetime)
	if k.now == nil {
		k.now = time.Now
	}
	if k.logger == nil {
		k.logger = zap.NewNop()
	}
	if k.clientIP == nil {
		k.clientIP = func(r *http.Request) string { return r.RemoteAddr }
	}
	var err error
	if k.cache, err = newCache(cfg.CacheSize, cfg.Codec); err != nil {
		return nil, err
	}
	if k.realm, err = newRealmGuard(cfg.Realm, cfg.RealmName); err != nil {
		return nil, err
	}
	return k, nil
}

// RealmID returns the ID of the Keeper's realm, which its sessions carry.
func (k *Keeper) RealmID() string { return k.realm.id }

// CachedSessions returns how many decoded sessions the cache holds.
func (k *Keeper) CachedSessions() int { return k.cache.len() }

// Read returns the session of r. It returns nil when there is none, when
// its cookie is forged, tampered or made with an unknown key, when it has
// expired, when it was issued in another realm, and when it was revoked.
func (k *Keeper) Read(r *http.Request) *Session {
	s, _ := k.decodeSession(r)
	return s
}

// Check is Read for a request that the gate answers or lets through: the
// cookie of a revoked session is also cleared, so the browser stops
// sending it.
func (k *Keeper) Check(w http.ResponseWriter, r *http.Request) *Session {
	s, revoked := k.decodeSession(r)
	if revoked {
		k.End(w, r)
		if ce := k.logger.Check(zap.DebugLevel, "revoked session refused"); ce != nil {
			ce.Write(zap.String("ip", k.clientIP(r)))
		}
	}
	return s
}

// decodeSession returns the session of r, as Read does, and reports
// whether a cookie was refused because its session was revoked. Decoding
// may be answered by the session cache; the checks after it run on every
// request. It is the only place a session cookie is read, so no page can
// skip the realm check: a session of another realm (or of none) is logged
// once and counts as no session; its cookie is left alone, since it may be
// good on the site that issued it.
func (k *Keeper) decodeSession(r *http.Request) (s *Session, revoked bool) {
	name := cookieName(r, CookieBase)
	value, ok := requestCookie(r, name)
	if !ok {
		return nil, false
	}
	var err error
	if s, err = k.cache.decode(name, value); err != nil {
		k.logRefusedCookie(r, CookieBase, err)
		return nil, false
	}
	if s.User == "" || s.ExpiresAt == 0 || !k.now().Before(s.Expires()) {
		return nil, false
	}
	if s.Realm != k.realm.id {
		k.logForeignSession(r, s)
		return nil, false
	}
	if k.revocations.Revoked(s) {
		return nil, true
	}
	return s, false
}

// readCookie decodes the gateway cookie called base into dst. It reports
// false when the request has none, and when it is forged, tampered with,
// made for another cookie or made with a key the gateway does not hold.
func (k *Keeper) readCookie(r *http.Request, base string, dst any) bool {
	name := cookieName(r, base)
	value, ok := requestCookie(r, name)
	if !ok {
		return false
	}
	if err := k.codec.Decode(name, value, dst); err != nil {
		k.logRefusedCookie(r, base, err)
		return false
	}
	return true
}

// logRefusedCookie logs, at debug level, why the cookie called base was
// refused.
func (k *Keeper) logRefusedCookie(r *http.Request, base string, err error) {
	if ce := k.logger.Check(zap.DebugLevel, "cookie refused"); ce != nil {
		ce.Write(zap.String("cookie", base), zap.String("cause", err.Error()), zap.String("ip", k.clientIP(r)))
	}
}

// Trust is the device-trust part of a new session.
type Trust struct {
	Status, DeviceID string
	// DeviceCertificate binds the trust to a managed device's certificate
	// (see Session.DeviceCertificate).
	DeviceCertificate string
	Failed, Warnings  []string
	Expires           time.Time
	// PolicyHash identifies the device policy the trust was decided under.
	PolicyHash string
}

// Start issues a session cookie for id, signed in through factor; trust
// is nil when no device check applies.
func (k *Keeper) Start(w http.ResponseWriter, r *http.Request, id Identity, factor string, trust *Trust) (*Session, error) {
	now := k.now()
	s := &Session{
		Identity:      id,
		ID:            secret.Token(),
		Factor:        factor,
		IssuedAt:      now.Unix(),
		ExpiresAt:     now.Add(k.lifetime).Unix(),
		CSRF:          secret.Token(),
		IssuedAtMilli: now.UnixMilli(),
		Realm:         k.realm.id,
	}
	if trust != nil {
		s.Trust, s.DeviceID, s.Failed, s.Warnings = trust.Status, trust.DeviceID, trust.Failed, trust.Warnings
		s.PolicyHash, s.TrustExpiresAt = trust.PolicyHash, trust.Expires.Unix()
		s.DeviceCertificate = trust.DeviceCertificate
	}
	name := cookieName(r, CookieBase)
	value, err := k.codec.Encode(name, s)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, newCookie(r, CookieBase, value, int(k.lifetime/time.Second)))
	return s, nil
}

// Renew issues s's cookie again with id as its identity (a revalidation's
// outcome), keeping its ID, expiry and device trust, and returns the
// session it now holds.
func (k *Keeper) Renew(w http.ResponseWriter, r *http.Request, s *Session, id Identity) (*Session, error) {
	next := *s
	next.Identity = id
	next.joinedGroups = ""
	name := cookieName(r, CookieBase)
	value, err := k.codec.Encode(name, &next)
	if err != nil {
		return nil, err
	}
	http.SetCookie(w, newCookie(r, CookieBase, value, int(next.Expires().Sub(k.now())/time.Second)))
	return &next, nil
}

// End clears the session cookie.
func (k *Keeper) End(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, newCookie(r, CookieBase, "", -1))
}
