package prompt

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"go.uber.org/zap"

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
func (g *Gate) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		returnTo := SafeReturn(r.URL.Query().Get("return"))
		switch {
		case g.readSession(r) != nil:
			http.Redirect(w, r, returnTo, http.StatusSeeOther)
		case g.cfg.OIDC != nil:
			g.startOIDC(w, r, returnTo)
		default:
			if g.checking() {
				// Ask Chromium browsers for the hints that tell a phone
				// from a desktop by the time the form is posted.
				w.Header().Set("Accept-CH", accessdevice.AcceptClientHints)
			}
			g.showPasswordForm(w, r, http.StatusOK, returnTo, "")
		}
	case http.MethodPost:
		if g.cfg.Users == nil {
			g.renderMessage(w, r, http.StatusMethodNotAllowed, "Not allowed", "This gateway signs people in through their identity provider.", ReservedPrefix+"login")
			return
		}
		g.submitPassword(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		g.renderMessage(w, r, http.StatusMethodNotAllowed, "Not allowed", "That method is not allowed here.", "")
	}
}

// showPasswordForm starts a fresh users-file form, with a new CSRF token
// in its flow cookie, that leads to returnTo.
func (g *Gate) showPasswordForm(w http.ResponseWriter, r *http.Request, status int, returnTo, msg string) {
	f := g.newFlow(returnTo)
	f.CSRF = secret.Token()
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	g.renderLogin(w, r, status, f, "", msg)
}

// submitPassword checks a posted users-file login form.
func (g *Gate) submitPassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		g.renderMessage(w, r, http.StatusRequestEntityTooLarge, "Sign-in failed", "The sign-in form could not be read. Please try again.", ReservedPrefix+"login")
		return
	}
	f := g.readFlow(r)
	if f == nil || !secret.Equal(r.PostForm.Get("csrf"), f.CSRF) {
		// Expired, missing or cross-site: start a fresh form and keep the
		// person's place, but never act on the post.
		returnTo := "/"
		if f != nil {
			returnTo = f.Return
		}
		g.showPasswordForm(w, r, http.StatusForbidden, returnTo, "Your sign-in form expired. Please sign in again.")
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if username == "" || password == "" || len(username) > maxUsernameLen || len(password) > maxPasswordLen {
		g.renderLogin(w, r, http.StatusBadRequest, f, username, "Enter your user name and password.")
		return
	}
	attempt := signin.PasswordAttempt{Username: username, Password: password, ClientIP: g.cfg.ClientIP(r)}
	id, err := g.passwords.SignIn(r.Context(), attempt, func(step string, err error) bool {
		return g.degrade(r, step, err)
	})
	if err != nil {
		g.passwordRefused(w, r, f, username, err)
		return
	}
	g.completeLogin(w, r, f, sessionIdentity(id), "password")
}

// passwordRefused answers a password sign-in that failed with err: a
// refusal (*signin.LoginError) is recorded and the form shown again; any
// other error means the attempt could not be judged.
func (g *Gate) passwordRefused(w http.ResponseWriter, r *http.Request, f *flow, username string, err error) {
	var le *signin.LoginError
	if !errors.As(err, &le) {
		g.unavailable(w, r, "signing in with a password", err)
		return
	}
	_ = g.record(r, store.AuthLogEntry{User: username, Result: store.ResultDenied, Reason: le.Reason, Factor: "password"})
	if le.Reason == signin.ReasonLockedOut {
		g.renderLogin(w, r, http.StatusTooManyRequests, f, username, "Too many failed sign-in attempts. Please wait a while and try again.")
		return
	}
	// One message for every wrong credential: never say which part.
	g.renderLogin(w, r, http.StatusUnauthorized, f, username, "Wrong user name or password.")
}

// completeLogin records a successful primary login, then starts the session
// and sends the browser back where it was going. The auth-log entry is
// durable before the session cookie is issued.
func (g *Gate) completeLogin(w http.ResponseWriter, r *http.Request, f *flow, id session.Identity, factor string) {
	if !g.cfg.Access.Allows(id.User, id.Email, id.Groups) {
		g.completeRefusedLogin(w, r, f, id, factor)
		return
	}
	if g.cfg.Device != nil && g.cfg.Device.Policy.Mode != policy.ModeOff {
		g.afterPrimary(w, r, f.Return, id, factor)
		return
	}
	err := g.record(r, store.AuthLogEntry{
		User: id.User, Email: id.Email, Groups: id.Groups,
		Result: store.ResultSuccess, Reason: primaryReason(factor), Factor: factor,
	})
	if err != nil && !g.degrade(r, "recording login", err) {
		g.unavailable(w, r, "recording login", err)
		return
	}
	if _, err := g.startSession(w, r, id, factor, nil); err != nil {
		g.internalError(w, r, "encoding session", err)
		return
	}
	g.clearFlow(w, r)
	web.NoStore(w)
	http.Redirect(w, r, f.Return, http.StatusSeeOther)
}

// primaryReason is the auth-log reason of a login that took only the
// primary sign-in through factor ("password" or "oidc").
func primaryReason(factor string) string {
	if factor == "oidc" {
		return reasonProviderApproved
	}
	return reasonValidPassword
}

// unavailable tells the person that the gateway cannot sign anyone in right
// now (storage unreachable), and logs the cause.
func (g *Gate) unavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The client went away: nothing failed on the gateway's side.
		g.cfg.Logger.Debug(what+": the client went away", zap.Error(err))
		return
	}
	g.cfg.Logger.Error(what, zap.Error(err))
	g.renderMessage(w, r, http.StatusServiceUnavailable, "Temporarily unavailable",
		"Sign-in is temporarily unavailable. Please try again in a minute.", "")
}

// storeUnavailable is unavailable for a storage failure that no fail mode
// applies to, counted as a store error.
func (g *Gate) storeUnavailable(w http.ResponseWriter, r *http.Request, what string, err error) {
	g.storeFailed(what, err)
	g.unavailable(w, r, what, err)
}

// internalError shows a generic error page and logs the cause.
func (g *Gate) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	g.cfg.Logger.Error(what, zap.Error(err))
	g.renderMessage(w, r, http.StatusInternalServerError, "Something went wrong",
		"The gateway could not complete your request. Please try again.", "")
}
