package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/trustgate/trustgate/caddymodule/internal/limits"
	"github.com/trustgate/trustgate/caddymodule/internal/signedin"
	"github.com/trustgate/trustgate/caddymodule/login"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/session"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Handler is the trusted_endpoints HTTP handler: it lets a request through
// to the rest of the route only when the person is signed in, and serves the
// gateway's own pages under /.trustgate/.
//
// For a signed-in request it removes every incoming copy of the identity
// headers (any case; '-', '_' or '.'), sets them from the session, removes the
// gateway's cookies, and sets these placeholders:
//
//	{http.auth.user.id}              user name (also shown in access logs)
//	{http.auth.user.email}           email address, when known
//	{http.auth.user.groups}          groups, comma-separated
//	{trusted_endpoints.user}         user name
//	{trusted_endpoints.email}        email address
//	{trusted_endpoints.groups}       groups, comma-separated
//	{trusted_endpoints.factor}       how the user signed in (password, oidc)
//	{trusted_endpoints.session_id}   the session's ID
//	{trusted_endpoints.trust}        the access device's trust status (trusted,
//	                                 not trusted, unknown); empty in mode off
//	{trusted_endpoints.device_id}    the mobile device that vouched for it
type Handler struct {
	// Application names the protected application in the auth log.
	// Default: the request's host name.
	Application string `json:"application,omitempty"`

	// LoginRaw is the primary login, exactly one: a login source module
	// named by its "source" key, users_file (login.UsersFileLogin) or oidc
	// (login.OIDCLogin), or a third party's (see login.Login).
	LoginRaw json.RawMessage `json:"login,omitempty" caddy:"namespace=trusted_endpoints.login inline_key=source"`

	// Allow says who may enter the application at all: a person who
	// matches any one of its users, groups or emails (an address, or
	// *@domain for exactly that domain) gets in; everyone else gets a 403
	// and never reaches the device check. It is checked on every request
	// from the session. Default: none, which lets in everyone the login
	// source signs in.
	Allow *policy.AccessRules `json:"allow,omitempty"`

	// AccessContact tells a person refused by Allow whom to ask for
	// access: free text, or an email address (shown as a link).
	// Default: "the administrator of <application>".
	AccessContact string `json:"access_contact,omitempty"`

	// SessionLifetime is how long a person stays signed in. Default: 8h.
	SessionLifetime caddy.Duration `json:"session_lifetime,omitempty"`

	// SessionCacheSize is how many decoded session cookies this site keeps
	// in memory, so that a signed-in request skips decrypting its cookie
	// (expiry, revocation and device trust are still checked on every
	// request). An entry takes about 680 bytes (more for many groups), so
	// the default is at most about 68 MB per site. -1 turns the cache off.
	// Default: 100000.
	SessionCacheSize int `json:"session_cache_size,omitempty"`

	// SessionRealm puts this site in the named realm. A site accepts only
	// sessions issued in its own realm; any other counts as no session and
	// the person signs in again. The sites of one realm accept each
	// other's sessions, and must have the same login source (a
	// configuration where they do not is refused). A named realm's
	// sessions outlive a change of its login source; renaming the realm
	// ends them. Default: the site's login source is its realm (the users
	// file by absolute path, or the OIDC issuer and client ID), so sites
	// with the same login share sessions, sites with different ones never
	// do, and changing the source signs everyone out.
	SessionRealm string `json:"session_realm,omitempty"`

	// RealmDefinedAt is where SessionRealm was written (file:line), set by
	// the Caddyfile adapter so that a refused realm names its line.
	RealmDefinedAt string `json:"realm_defined_at,omitempty"`

	// LockoutAttempts is how many failed password logins one user may make
	// from one IP address within LockoutWindow before further attempts are
	// refused. The count is kept in the store, so it holds across every
	// instance sharing it. Default: 5.
	LockoutAttempts int `json:"lockout_attempts,omitempty"`

	// LockoutWindow is the period over which failed logins count, and so
	// how long a lockout lasts. Default: 15m.
	LockoutWindow caddy.Duration `json:"lockout_window,omitempty"`

	// UpstreamHeaders names the request headers that carry the identity to
	// the upstream. Default: X-Trustgate-User, X-Trustgate-Email,
	// X-Trustgate-Groups, X-Trustgate-Device-Trust, X-Trustgate-Device-Id.
	UpstreamHeaders *UpstreamHeaders `json:"upstream_headers,omitempty"`

	// UpstreamAssertion, when set, also hands the upstream a signed,
	// short-lived JWT of the identity and the device trust, and serves its
	// public keys at /.trustgate/jwks.json. Default: none.
	UpstreamAssertion *UpstreamAssertion `json:"upstream_assertion,omitempty"`

	// Mode is the device check of this application: "off" (none), "check"
	// (record trusted or not on every login, never block) or "block" (let
	// in only devices proven trusted). Every other device setting only
	// matters when the mode is not off. Default: off.
	Mode policy.Mode `json:"mode,omitempty"`

	// Mobile says to whom (state disabled, groups or all, and the groups)
	// and on which platforms (ios, android) the mobile app's check
	// applies. Default: disabled, on both platforms.
	Mobile *policy.Integration `json:"mobile,omitempty"`

	// Managed says to whom (state disabled, groups or all, and the groups)
	// and on which platforms (default windows, macos, linux) a managed
	// device vouches for the access device: one whose client certificate,
	// verified by the site's TLS client_auth, is in the inventory, looked
	// up by the certificate's fingerprint (default), serial, san_uri or
	// hardware_serial (match). Where the mobile check applies to a person
	// on iOS or Android, managed is not consulted for that platform.
	// Default: disabled.
	Managed *policy.Managed `json:"managed,omitempty"`

	// Requirements are the device health rules, each with a level of
	// "require" or "warn" (optionally warn "until" an RFC 3339 deadline,
	// then require). A rule without a level is not checked. Default: none.
	Requirements *policy.Requirements `json:"requirements,omitempty"`

	// TrustFor is how long a device check counts before the next request
	// checks again. Default: 12h.
	TrustFor caddy.Duration `json:"trust_for,omitempty"`

	// PushTimeout is how long a login request waits for the person's
	// answer in the app. Default: 60s.
	PushTimeout caddy.Duration `json:"push_timeout,omitempty"`

	// Enrollment is who may start a device's activation: "admin" (codes
	// only from the admin API), "self" (the prompt offers a code to a
	// person with no active device) or "approve" (the prompt offers a code
	// to a person with an active device, which must approve the new one
	// by push with number matching). true, from older configs, means
	// "self" and false "admin". Default: admin.
	Enrollment Enrollment `json:"enrollment,omitempty"`

	// EnrollmentBlockMode allows enrollment self in mode block, where a
	// password alone then enrolls a trusted device. Without it that
	// combination is refused. Default: false.
	EnrollmentBlockMode bool `json:"enrollment_block_mode,omitempty"`

	// enrollmentSelfAt is where a Caddyfile's enrollment self line is
	// (file:line), for its error when the block turns out to be in mode
	// block.
	enrollmentSelfAt string

	// Unbound lets the waiting page complete a check once the app approved,
	// without the phone's browser coming back through the app's return
	// link. Only for browsers the app cannot return to (embedded web
	// views); such logins are marked unbound in the auth log.
	// Default: false.
	Unbound bool `json:"unbound,omitempty"`

	// AppLinks names the mobile apps allowed to open the gateway's HTTPS
	// links (served as /.well-known/apple-app-site-association and
	// /.well-known/assetlinks.json).
	AppLinks *AppLinks `json:"app_links,omitempty"`

	// Origins are the gateway origins (scheme://host[:port]) an app
	// activated here may act for. Default: the origin the activation came
	// through.
	Origins []string `json:"origins,omitempty"`

	// PasscodeAttempts is how many wrong passcodes one user may enter
	// within LockoutWindow before passcodes are refused. Default: 5.
	PasscodeAttempts int `json:"passcode_attempts,omitempty"`

	// ActivationAttempts is how many failed activations one IP address may
	// make within LockoutWindow. Default: 10.
	ActivationAttempts int `json:"activation_attempts,omitempty"`

	// PushLimit is how many login requests one user may be sent within
	// PushWindow, against push fatigue. Default: 5.
	PushLimit int `json:"push_limit,omitempty"`

	// PushWindow is the period over which PushLimit counts. Default: 10m.
	PushWindow caddy.Duration `json:"push_window,omitempty"`

	// FailMode says what signing in does while storage is unreachable:
	// "secure" refuses new sign-ins with a "temporarily unavailable" page
	// (503 for API clients); "safe" lets people who passed the primary
	// login through without lockout counting, device check or auth log,
	// logging each loudly; "check" degrades to mode check (let in, logged
	// as would_block). Signed-in requests with valid trust keep working in
	// every mode. Default: secure, or check when mode is check.
	FailMode string `json:"fail_mode,omitempty"`

	// Limits rate-limits the device API per client address and per
	// device, and bounds how long a device request's body may take.
	// Default: see limits.Config.
	Limits *limits.Config `json:"limits,omitempty"`

	gate   *prompt.Gate
	logger *zap.Logger
	// device is the device check handed to the gate; nil in mode off.
	device *prompt.DeviceTrust
	// app is the trusted_endpoints app of this configuration.
	app *App
	// login is the loaded login source; one that is a LoginChecker is
	// checked in Validate.
	login login.Login
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.trusted_endpoints",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision sets up the gateway for this site.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.logger = ctx.Logger()
	appIface, err := ctx.App(appName)
	if err != nil {
		return fmt.Errorf("getting trusted_endpoints app: %w", err)
	}
	app := appIface.(*App)
	h.app = app
	repl := caddy.NewReplacer()
	device, err := h.deviceTrust(app.TrustCache(), app.Inventory())
	if err != nil {
		return err
	}
	h.device = device
	h.warnAboutDeviceSettings()

	cfg := prompt.Config{
		FailMode:         prompt.FailMode(h.FailMode),
		Application:      repl.ReplaceKnown(h.Application, ""),
		Cookies:          app.Cookies(),
		SessionLifetime:  time.Duration(h.SessionLifetime),
		SessionCacheSize: h.SessionCacheSize,
		LockoutAttempts:  h.LockoutAttempts,
		LockoutWindow:    time.Duration(h.LockoutWindow),
		Headers:          h.identityHeaders(),
		Device:           device,
		ClientIP:         clientIP,
		Logger:           h.logger,
		Waker:            app.Waker(),
		Revocations:      app.Revocations(),
		// Caddy cancels this config's context when a reload has replaced
		// it, while the old server may still hold requests: held device
		// long-polls then answer at once instead of for up to their wait.
		Retired: ctx.Done(),
		Exiting: caddy.Exiting,
	}
	if err := h.accessConfig(&cfg); err != nil {
		return err
	}
	m := gatewayMetrics()
	if err := m.Register(ctx.GetMetricsRegistry()); err != nil {
		return err
	}
	cfg.Observer = m.Observer(cfg.Application, h.logger)
	cfg.Store = m.CountedStore(app.Store(), cfg.Application)
	if cfg.Assertion, err = h.UpstreamAssertion.promptConfig(repl, app.SigningKeys()); err != nil {
		return err
	}
	if cfg.Limiter, err = h.Limits.Limiter(); err != nil {
		return err
	}
	if h.login, err = h.loadLogin(ctx); err != nil {
		return err
	}
	if err := h.login.ConfigureGate(&cfg); err != nil {
		return err
	}
	if cfg.Realm, err = h.joinRealm(app); err != nil {
		return err
	}
	cfg.RealmName = app.sites.RealmName
	h.gate, err = prompt.NewGate(cfg)
	if err != nil {
		return err
	}
	if cfg.Application != "" && app.sites.RegisterPolicy(cfg.Application, h.devicePolicy()) {
		h.logger.Warn("two sites name the same application with different device policies; what-if answers use the last one",
			zap.String("application", cfg.Application))
	}
	if cfg.Application != "" {
		app.sites.RegisterApplicationRealm(cfg.Application, cfg.Realm)
	}
	if cfg.Application != "" && app.sites.RegisterAccess(cfg.Application, h.Allow, cfg.Access) {
		h.logger.Warn("two sites name the same application with different allow lines; what-if and rollout impact use the last one",
			zap.String("application", cfg.Application))
	}
	return nil
}

// Validate checks the handler's settings.
func (h *Handler) Validate() error {
	if h.SessionLifetime < 0 {
		return errors.New("session_lifetime must not be negative")
	}
	if h.LockoutAttempts < 0 {
		return errors.New("lockout_attempts must not be negative")
	}
	if h.LockoutWindow < 0 {
		return errors.New("lockout_window must not be negative")
	}
	if err := h.Allow.Validate(); err != nil {
		return err
	}
	if h.SessionRealm != "" {
		if err := checkSessionRealm(h.SessionRealm); err != nil {
			return err
		}
	}
	if err := h.UpstreamHeaders.validate(); err != nil {
		return err
	}
	if err := h.validateDevice(); err != nil {
		return err
	}
	if checker, ok := h.login.(login.LoginChecker); ok {
		return checker.CheckLogin(h.logger)
	}
	return nil
}

// ServeHTTP lets signed-in requests through and answers every other one.
func (h Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	session, handled := h.gate.Authenticate(w, r)
	if handled {
		return nil
	}
	if repl, ok := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer); ok {
		repl.Map(sessionPlaceholders(session))
	}
	// A dashboard after this handler reads the session from the request's
	// context, which no client can set. Without one the request is not
	// copied to carry it.
	if h.app != nil && h.app.carrySessions {
		r = signedin.With(r, session)
	}
	return next.ServeHTTP(w, r)
}

// sessionPlaceholders answers the placeholders of a signed-in request (see
// Handler) from its session when they are asked for, so that a request
// whose configuration reads none of them pays for none: setting them one
// by one grew the replacer's map on every request.
func sessionPlaceholders(s *session.Session) caddy.ReplacerFunc {
	return func(key string) (any, bool) {
		switch key {
		case "http.auth.user.id", "trusted_endpoints.user":
			return s.User, true
		case "http.auth.user.email", "trusted_endpoints.email":
			return s.Email, true
		case "http.auth.user.groups", "trusted_endpoints.groups":
			return s.JoinedGroups(), true
		case "trusted_endpoints.factor":
			return s.Factor, true
		case "trusted_endpoints.session_id":
			return s.ID, true
		case "trusted_endpoints.trust":
			return s.Trust, true
		case "trusted_endpoints.device_id":
			return s.DeviceID, true
		}
		return nil, false
	}
}

// clientIP returns the client address as Caddy determined it (honouring
// trusted_proxies).
func clientIP(r *http.Request) string {
	if ip, ok := caddyhttp.GetVar(r.Context(), caddyhttp.ClientIPVarKey).(string); ok && ip != "" {
		return ip
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
