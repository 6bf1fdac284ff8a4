package prompt

import (
	"errors"
	"net/http"
	"strings"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/accessdevice"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// Limits on the login form, so an oversized post is refused before any
// hashing work.
const (
	maxFormBytes   = 16 << 10
	maxUsernameLen = 256
	maxPasswordLen = 1024
)

// Login reasons recorded in the auth log.
const (
	// reasonUserApproved is a login the person approved on their phone.
	reasonUserApproved = "user_approved"
	// reasonValidPassword and reasonProviderApproved are logins that only
	// took the primary sign-in: a correct users-file password, or an ID
	// token the OIDC provider issued and the gateway verified.
	reasonValidPassword    = "valid_password"
	reasonProviderApproved = "provider_approved"
	reasonLockedOut        = signin.ReasonLockedOut
	reasonProviderRefused  = signin.ReasonProviderRefused
	reasonStoreError       = "store_unavailable"
	reasonNotAuthorized    = string(policy.ReasonNotAuthorized)
)

// newPasswords is the users-file sign-in of a gate configured with cfg,
// or nil with OIDC.
func newPasswords(cfg Config) *signin.Passwords {
	if cfg.Users == nil {
		return nil
	}
	return &signin.Passwords{
		Users: cfg.Users, Failures: cfg.Store,
		Attempts: cfg.LockoutAttempts, Window: cfg.LockoutWindow,
		Now: cfg.Now, Logger: cfg.Logger,
	}
}

// sessionIdentity is the identity a session starts with after sign-in.
func sessionIdentity(id signin.Identity) session.Identity {
	return session.Identity{User: id.User, Email: id.Email, Groups: id.Groups}
}

// serveLogin starts a login: the users-file form, or a redirect to the OIDC
// provider.
func (g *Gate) serveLogin(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		returnTo := SafeReturn(r.URL.Query().Get("return"))
		switch {
		case g.readSession(r) != nil:
			http.Redirect(w, r, returnTo, http.StatusSeeOther)
			return nil
		case g.cfg.OIDC != nil:
			return g.startOIDC(w, r, returnTo)
		default:
			if g.checking() {
				// Ask Chromium browsers for the hints that tell a phone
				// from a desktop by the time the form is posted.
				w.Header().Set("Accept-CH", accessdevice.AcceptClientHints)
			}
			return g.showPasswordForm(w, r, http.StatusOK, returnTo, "")
		}
	case http.MethodPost:
		if g.cfg.Users == nil {
			return pageErr(http.StatusMethodNotAllowed, "Not allowed", "This gateway signs people in through their identity provider.", ReservedPrefix+"login")
		}
		return g.submitPassword(w, r)
	default:
		return errMethod(w, "GET, HEAD, POST", "")
	}
}

// showPasswordForm starts a fresh users-file form, with a new CSRF token
// in its flow cookie, that leads to returnTo.
func (g *Gate) showPasswordForm(w http.ResponseWriter, r *http.Request, status int, returnTo, msg string) error {
	f := g.newFlow(returnTo)
	f.CSRF = secret.Token()
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	g.renderLogin(w, r, status, f, "", msg)
	return nil
}

// submitPassword checks a posted users-file login form.
func (g *Gate) submitPassword(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return pageErr(http.StatusRequestEntityTooLarge, "Sign-in failed", "The sign-in form could not be read. Please try again.", ReservedPrefix+"login")
	}
	f := g.readFlow(r)
	if f == nil || !secret.Equal(r.PostForm.Get("csrf"), f.CSRF) {
		// Expired, missing or cross-site: start a fresh form and keep the
		// person's place, but never act on the post.
		returnTo := "/"
		if f != nil {
			returnTo = f.Return
		}
		return g.showPasswordForm(w, r, http.StatusForbidden, returnTo, "Your sign-in form expired. Please sign in again.")
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if username == "" || password == "" || len(username) > maxUsernameLen || len(password) > maxPasswordLen {
		g.renderLogin(w, r, http.StatusBadRequest, f, username, "Enter your user name and password.")
		return nil
	}
	attempt := signin.PasswordAttempt{Username: username, Password: password, ClientIP: g.cfg.ClientIP(r)}
	id, err := g.passwords.SignIn(r.Context(), attempt, func(step string, err error) bool {
		return g.degrade(r, step, err)
	})
	if err != nil {
		return g.passwordRefused(w, r, f, username, err)
	}
	return g.completeLogin(w, r, f, sessionIdentity(id), "password")
}

// passwordRefused answers a password sign-in that failed with err: a
// refusal (*signin.LoginError) is recorded and the form shown again; any
// other error means the attempt could not be judged.
func (g *Gate) passwordRefused(w http.ResponseWriter, r *http.Request, f *flow, username string, err error) error {
	var le *signin.LoginError
	if !errors.As(err, &le) {
		return g.errUnavailable(r, "signing in with a password", err)
	}
	_ = g.record(r, store.AuthLogEntry{User: username, Result: store.ResultDenied, Reason: le.Reason, Factor: "password"})
	if le.Reason == signin.ReasonLockedOut {
		g.renderLogin(w, r, http.StatusTooManyRequests, f, username, "Too many failed sign-in attempts. Please wait a while and try again.")
		return nil
	}
	// One message for every wrong credential: never say which part.
	g.renderLogin(w, r, http.StatusUnauthorized, f, username, "Wrong user name or password.")
	return nil
}

// completeLogin records a successful primary login, then starts the session
// and sends the browser back where it was going. The auth-log entry is
// durable before the session cookie is issued.
func (g *Gate) completeLogin(w http.ResponseWriter, r *http.Request, f *flow, id session.Identity, factor string) error {
	if !g.cfg.Access.Allows(id.User, id.Email, id.Groups) {
		return g.completeRefusedLogin(w, r, f, id, factor)
	}
	if g.cfg.Device != nil && g.cfg.Device.Policy.Mode != policy.ModeOff {
		return g.afterPrimary(w, r, f.Return, id, factor)
	}
	err := g.record(r, store.AuthLogEntry{
		User: id.User, Email: id.Email, Groups: id.Groups,
		Result: store.ResultSuccess, Reason: primaryReason(factor), Factor: factor,
	})
	if err != nil && !g.degrade(r, "recording login", err) {
		return g.errUnavailable(r, "recording login", err)
	}
	if _, err := g.startSession(w, r, id, factor, nil); err != nil {
		return errInternal("encoding session", err)
	}
	g.clearFlow(w, r)
	web.NoStore(w)
	http.Redirect(w, r, f.Return, http.StatusSeeOther)
	return nil
}

// primaryReason is the auth-log reason of a login that took only the
// primary sign-in through factor ("password" or "oidc").
func primaryReason(factor string) string {
	if factor == "oidc" {
		return reasonProviderApproved
	}
	return reasonValidPassword
}
