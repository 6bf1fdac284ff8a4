package prompt

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/assertion"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/pages"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/web"
)

// ReservedPrefix is the path prefix under which the gateway serves its own
// pages. Requests under it never reach the protected application.
const ReservedPrefix = "/.trustgate/"

// Config configures a Gate. Users or OIDC must be set, not both.
type Config struct {
	// Application names the protected application in the auth log.
	Application string
	// Users enables login with a users file.
	Users *signin.UsersFile
	// OIDC enables login through an OpenID Connect provider.
	OIDC *signin.OIDCLogin
	// OIDCRedirectURL overrides the redirect URI sent to the provider.
	// Default: the request's scheme and host + /.trustgate/oidc/callback.
	OIDCRedirectURL string
	// OIDCLogoutRedirect, when set, is where sign-out sends the browser,
	// instead of the provider's end_session_endpoint.
	OIDCLogoutRedirect string
	// OIDCRevalidate, when positive, is how long after sign-in (or the
	// last check) the next request asks the provider again, with the
	// refresh token kept in the store, whether the person may still sign
	// in. Zero: never.
	OIDCRevalidate time.Duration
	// Store keeps what the gate and its parts share between requests and
	// instances (see Store).
	Store Store
	// Cookies encodes the session and login-flow cookies.
	Cookies *session.CookieCodec
	// Realm names where this gate's sessions are valid (see RealmID): a
	// session or login flow issued under another realm counts as none.
	// Gates given the same realm accept each other's sessions, so give it
	// only to gates with the same login source. Default: for OIDC,
	// OIDCRealm of the provider's issuer and client ID; for a users file,
	// whose path the gate does not know, a realm of this gate alone (set
	// UsersFileRealm of the file's path to keep sessions across restarts).
	Realm string
	// RealmName names another realm by its ID, for the log line of a
	// refused session. Default: the ID alone.
	RealmName func(id string) string
	// SessionLifetime is how long a session lasts. Default: 8h.
	SessionLifetime time.Duration
	// SessionCacheSize is how many decoded session cookies the gate keeps
	// in memory, so that a signed-in request skips decrypting its cookie;
	// expiry, revocation and device trust are still checked on every
	// request. An entry takes about 680 bytes (more for many groups), so
	// the default is at most about 68 MB. Negative turns the cache off.
	// Default: 100000 (session.DefaultCacheSize).
	SessionCacheSize int
	// LockoutAttempts is how many failed logins a user may make from one IP
	// address within LockoutWindow before further attempts are refused.
	// Default: 5.
	LockoutAttempts int
	// LockoutWindow is the period over which failures count, and so how
	// long a lockout lasts. Default: 15m.
	LockoutWindow time.Duration
	// Headers names the identity headers set for the upstream.
	Headers IdentityHeaders
	// Device configures the device check. Nil turns it off (mode off).
	Device *DeviceTrust
	// Access are the application's access rules (policy.NewAccess),
	// checked on every request from the session alone, after sign-in and
	// before the device check: a person they refuse gets a 403 and is never
	// sent to the device check. Nil lets in everyone the login source
	// signs in. AccessContact says whom a refused person should ask (free
	// text or an email address). Default: the application's administrator.
	Access        *policy.Access
	AccessContact string
	// Assertion, when set, hands the upstream a signed JWT of the identity
	// and device trust, and serves its keys at JWKSPath. Default: none.
	Assertion *assertion.Config
	// Revocations are the sessions ended on the server (sign-out, sign
	// out everywhere, an admin's revocation), checked on every request
	// without storage; share one between the sites of an instance and keep
	// it current from the store (Revocations.Refresh, ApplyEvent).
	// Default: a set of this gate's own, holding its own revocations.
	Revocations *session.Revocations
	// Waker wakes device long-polls when a login request is sent; share one
	// between the sites of an instance. Default: one for this gate.
	Waker *device.Waker
	// Retired, once closed, says that a replacement has taken over from
	// this gate (a configuration reload). The gate still answers what it
	// is sent, but a device's push long-poll stops holding on: it answers
	// at once with what is pending (usually nothing), and the device's
	// next poll reaches the replacement. Default: never closed.
	Retired <-chan struct{}
	// Exiting reports whether the process is shutting down. A held push
	// long-poll then answers within a second, as on Retired, so that it
	// does not hold up the exit. Default: never.
	Exiting func() bool
	// Limiter rate-limits the device API per client address and per
	// device, in memory (see Limiter), and bounds how long reading a
	// device request's body may take. Default: no rate limits, and 10s to
	// read a body.
	Limiter *deviceapi.Limiter
	// FailMode says what sign-in does while storage is unreachable.
	// Default: secure, or check when the device check's mode is check.
	FailMode FailMode
	// ClientIP returns the client's IP address for r. Default: the host
	// part of r.RemoteAddr.
	ClientIP func(r *http.Request) string
	// Logger receives operational logs; never secrets. Each auth-log entry
	// is also logged here, at Info as "login". Default: no-op.
	Logger *zap.Logger
	// Observer hears about logins, device checks, login requests and
	// storage failures, for metrics. Default: none.
	Observer Observer
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Gate lets signed-in requests through and signs everybody else in.
type Gate struct {
	cfg   Config
	pages pages.Writer
	// sessions reads, starts and ends the gate's sessions; flows are its
	// login flows (session.go).
	sessions *session.Keeper
	flows    session.Flows[pendingLogin]
	// realmID is the ID of the realm whose sessions the gate accepts
	// (cfg.Realm names it).
	realmID string
	// deviceRealm is the ID of the realm the devices this gate's prompt
	// enrolls are bound to (deviceRealmOf).
	deviceRealm string
	// reservedHeaders are the identity header names stripped from every
	// request, worked out once rather than per request.
	reservedHeaders []string
	// headers are the identity header names in canonical form.
	headers IdentityHeaders
	// policyHash identifies the device policy in sessions and the trust
	// cache; empty without a device check.
	policyHash string
	// trustScope keys this gate's decisions in the trust cache (see
	// scopeOf), worked out once rather than per request.
	trustScope string
	// assertion signs the upstream assertion; nil when there is none.
	assertion *assertion.Signer
	// wake wakes device long-polls.
	wake *device.Waker
	// devices is the device service; nil without a device check.
	devices *device.Service
	// deviceAPI answers the device API under protocol.APIPrefix.
	deviceAPI *deviceapi.API
	// appSiteAssociation and assetLinks are the well-known files for the
	// app's HTTPS links; nil when no app IDs are configured.
	appSiteAssociation, assetLinks []byte
	// passwords checks users-file sign-ins under the lockout rules; nil
	// with OIDC.
	passwords *signin.Passwords
	// refusals are the sessions whose refusal by the access rules this
	// gate has logged; nil without rules.
	refusals *refusalLog
	// errors turns a gateway handler's error into its answer: the message
	// page for a browser, JSON otherwise.
	errors web.ErrorWriter
	// reserved routes the paths under ReservedPrefix (routes.go).
	reserved http.Handler
}

// NewGate checks cfg, fills in defaults and returns a Gate.
func NewGate(cfg Config) (*Gate, error) {
	if (cfg.Users == nil) == (cfg.OIDC == nil) {
		return nil, errors.New("exactly one primary login (users file or OIDC) is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("no store")
	}
	if cfg.Cookies == nil {
		return nil, errors.New("no cookie codec")
	}
	if cfg.SessionLifetime <= 0 {
		cfg.SessionLifetime = 8 * time.Hour
	}
	if cfg.LockoutAttempts <= 0 {
		cfg.LockoutAttempts = 5
	}
	if cfg.LockoutWindow <= 0 {
		cfg.LockoutWindow = 15 * time.Minute
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = remoteIP
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Revocations == nil {
		cfg.Revocations = session.NewRevocations()
	}
	if cfg.Device != nil {
		d, err := cfg.Device.withDefaults()
		if err != nil {
			return nil, err
		}
		cfg.Device = &d
	}
	if cfg.FailMode == "" {
		cfg.FailMode = defaultFailMode(cfg.Device)
	}
	if _, err := ParseFailMode(string(cfg.FailMode)); err != nil {
		return nil, err
	}
	p, err := pages.NewWriter(pages.Opts{Application: cfg.Application, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	g := &Gate{cfg: cfg, pages: p, reservedHeaders: cfg.Headers.reserved(), headers: cfg.Headers.canonical(), wake: cfg.Waker}
	if err := g.initSessions(); err != nil {
		return nil, err
	}
	g.deviceRealm = deviceRealmOf(cfg, g.realmID)
	g.passwords = newPasswords(g.cfg)
	if g.assertion, err = assertion.NewSigner(cfg.Assertion, cfg.Headers.names()); err != nil {
		return nil, err
	}
	g.reservedHeaders = append(g.reservedHeaders, g.assertion.Headers()...)
	if g.wake == nil {
		g.wake = device.NewWaker()
	}
	if g.refusals, err = newRefusalLog(cfg.Access); err != nil {
		return nil, err
	}
	if err := g.setUpDevices(); err != nil {
		return nil, err
	}
	g.route()
	return g, nil
}

// checking reports whether the gate checks devices (mode check or block).
func (g *Gate) checking() bool {
	return g.cfg.Device != nil && g.cfg.Device.Policy.Mode != policy.ModeOff
}

// Authenticate handles one request. When it returns handled, the response
// has been written (a gateway page, a redirect to login, or a 401) and the
// request must go no further. Otherwise the request is signed in: session
// describes who it is, the identity headers have been set on r, and the
// gateway's own cookies have been removed from r, so the request can go on
// to the protected application.
func (g *Gate) Authenticate(w http.ResponseWriter, r *http.Request) (s *session.Session, handled bool) {
	if strings.HasPrefix(r.URL.Path, ReservedPrefix) {
		g.reserved.ServeHTTP(w, r)
		return nil, true
	}
	if g.serveWellKnown(w, r) {
		return nil, true
	}
	// Strip spoofed identity headers first, whatever happens next.
	stripHeaders(r.Header, g.reservedHeaders)
	stripTrailers(r, g.reservedHeaders)
	s = g.checkSession(w, r)
	if s == nil {
		g.requireLogin(w, r)
		return nil, true
	}
	// A s from before revalidate was turned on (no RecheckAt) is due.
	if g.cfg.OIDCRevalidate > 0 && g.cfg.Now().Unix() >= s.RecheckAt {
		if s = g.revalidate(w, r, s); s == nil {
			return nil, true
		}
	}
	if !g.cfg.Access.Allows(s.User, s.Email, s.Groups) {
		g.refuseAccess(w, r, s)
		return nil, true
	}
	if g.checking() && !g.trustHolds(r, s) {
		g.requireCheck(w, r, s)
		return nil, true
	}
	session.StripCookies(r)
	g.headers.setValues(r.Header, s)
	if err := g.setAssertion(r, s); err != nil {
		g.writeError(w, r, err)
		return nil, true
	}
	return s, false
}

// requireLogin sends a browser to the login page and tells any other client
// that it must authenticate.
func (g *Gate) requireLogin(w http.ResponseWriter, r *http.Request) {
	loginURL := ReservedPrefix + "login?return=" + url.QueryEscape(SafeReturn(r.URL.RequestURI()))
	if !web.WantsPage(r) {
		web.WriteJSON(w, http.StatusUnauthorized, map[string]string{
			"error":     "authentication required",
			"login_url": loginURL,
		})
		return
	}
	web.NoStore(w)
	http.Redirect(w, r, loginURL, http.StatusFound)
}

// requireCheck sends a signed-in person whose device trust has lapsed (or
// was decided under another policy, or whose device was revoked) through the
// device check again, without a new primary login.
func (g *Gate) requireCheck(w http.ResponseWriter, r *http.Request, s *session.Session) {
	if !web.WantsPage(r) {
		web.WriteJSON(w, http.StatusUnauthorized, map[string]string{
			"error":     "device check required",
			"login_url": ReservedPrefix + "login?return=" + url.QueryEscape(SafeReturn(r.URL.RequestURI())),
		})
		return
	}
	web.SecurityHeaders(w)
	if err := g.afterPrimary(w, r, SafeReturn(r.URL.RequestURI()), s.Identity, s.Factor); err != nil {
		g.errors.Write(w, r, err)
	}
}

// serveWellKnown serves the app-link association files, when configured.
func (g *Gate) serveWellKnown(w http.ResponseWriter, r *http.Request) bool {
	var body []byte
	switch r.URL.Path {
	case "/.well-known/apple-app-site-association":
		body = g.appSiteAssociation
	case "/.well-known/assetlinks.json":
		body = g.assetLinks
	}
	if body == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	w.Header().Set("Content-Type", "application/json")
	web.StaticHeaders(w, pages.StaticMaxAge)
	_, _ = w.Write(body)
	return true
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
