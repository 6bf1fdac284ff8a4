package prompt

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// ReservedPrefix is the path prefix under which the gateway serves its own
// pages. Requests under it never reach the protected application.
const ReservedPrefix = "/.trustgate/"

// Config configures a Gate. Users or OIDC must be set, not both.
type Config struct {
	// Application names the protected application in the auth log.
	Application string
	// Users enables login with a users file.
	Users *UsersFile
	// OIDC enables login through an OpenID Connect provider.
	OIDC *OIDCLogin
	// OIDCRedirectURL overrides the redirect URI sent to the provider.
	// Default: the request's scheme and host + /.trustgate/oidc/callback.
	OIDCRedirectURL string
	// Store keeps lockouts, single-use values and the auth log.
	Store store.Store
	// Cookies encodes the session and login-flow cookies.
	Cookies *CookieCodec
	// SessionLifetime is how long a session lasts. Default: 8h.
	SessionLifetime time.Duration
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
	// ClientIP returns the client's IP address for r. Default: the host
	// part of r.RemoteAddr.
	ClientIP func(r *http.Request) string
	// Logger receives operational logs; never secrets. Default: no-op.
	Logger *zap.Logger
	// Now is the clock. Default: time.Now.
	Now func() time.Time
}

// Gate lets signed-in requests through and signs everybody else in.
type Gate struct {
	cfg   Config
	pages *pages
	// reservedHeaders are the identity header names stripped from every
	// request, worked out once rather than per request.
	reservedHeaders []string
}

// Cookie base names; see cookieName for the __Host- prefix.
const (
	sessionCookie = "tg_session"
	flowCookie    = "tg_flow"
)

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
	if cfg.Device != nil {
		d, err := cfg.Device.withDefaults()
		if err != nil {
			return nil, err
		}
		cfg.Device = &d
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	return &Gate{cfg: cfg, pages: p, reservedHeaders: cfg.Headers.reserved()}, nil
}

// Authenticate handles one request. When it returns handled, the response
// has been written (a gateway page, a redirect to login, or a 401) and the
// request must go no further. Otherwise the request is signed in: session
// describes who it is, the identity headers have been set on r, and the
// gateway's own cookies have been removed from r, so the request can go on
// to the protected application.
func (g *Gate) Authenticate(w http.ResponseWriter, r *http.Request) (session *Session, handled bool) {
	if strings.HasPrefix(r.URL.Path, ReservedPrefix) {
		g.serveReserved(w, r)
		return nil, true
	}
	// Strip spoofed identity headers first, whatever happens next.
	stripHeaders(r.Header, g.reservedHeaders)
	session = g.readSession(r)
	if session == nil {
		g.requireLogin(w, r)
		return nil, true
	}
	stripGatewayCookies(r)
	g.cfg.Headers.setValues(r.Header, session)
	return session, false
}

// requireLogin sends a browser to the login page and tells any other client
// that it must authenticate.
func (g *Gate) requireLogin(w http.ResponseWriter, r *http.Request) {
	loginURL := ReservedPrefix + "login?return=" + urlQueryEscape(SafeReturn(r.URL.RequestURI()))
	if !wantsHTML(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{
			"error":     "authentication required",
			"login_url": loginURL,
		})
		return
	}
	noStore(w)
	http.Redirect(w, r, loginURL, http.StatusFound)
}

func (g *Gate) serveReserved(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	switch path := strings.TrimPrefix(r.URL.Path, ReservedPrefix); {
	case path == "login":
		g.serveLogin(w, r)
	case path == "oidc/callback":
		g.serveOIDCCallback(w, r)
	case path == "logout":
		g.serveLogout(w, r)
	case strings.HasPrefix(path, "static/"):
		serveStatic(w, r, strings.TrimPrefix(path, "static/"))
	default:
		g.renderMessage(w, r, http.StatusNotFound, "Not found", "There is no such page on this gateway.", "")
	}
}

// wantsHTML reports whether r comes from a browser navigation that can
// follow a redirect to a login page, rather than from a script or API client
// that needs a 401 it can act on.
func wantsHTML(r *http.Request) bool {
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	switch r.Header.Get("Sec-Fetch-Mode") {
	case "cors", "no-cors", "same-origin", "websocket":
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// stripGatewayCookies removes the gateway's cookies from the request, so the
// protected application never sees (or leaks) the session.
func stripGatewayCookies(r *http.Request) {
	cookies := r.Cookies()
	kept := cookies[:0]
	removed := false
	for _, c := range cookies {
		base := strings.TrimPrefix(c.Name, "__Host-")
		if base == sessionCookie || base == flowCookie {
			removed = true
			continue
		}
		kept = append(kept, c)
	}
	if !removed {
		return
	}
	r.Header.Del("Cookie")
	if len(kept) == 0 {
		return
	}
	parts := make([]string, len(kept))
	for i, c := range kept {
		parts[i] = fmt.Sprintf("%s=%s", c.Name, c.Value)
	}
	r.Header.Set("Cookie", strings.Join(parts, "; "))
}
