package prompt

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
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
	reasonInvalidPassword  = "invalid_password"
	reasonUnknownUser      = "unknown_user"
	reasonLockedOut        = "locked_out"
	reasonInvalidState     = "invalid_state"
	reasonProviderError    = "provider_error"
	reasonStoreError       = "store_unavailable"
	reasonNotAuthorized    = string(policy.ReasonNotAuthorized)
)

// serveLogin starts a login: the users-file form, or a redirect to the OIDC
// provider.
func (g *Gate) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		returnTo := SafeReturn(r.URL.Query().Get("return"))
		if g.readSession(r) != nil {
			http.Redirect(w, r, returnTo, http.StatusSeeOther)
			return
		}
		if g.cfg.OIDC != nil {
			g.startOIDC(w, r, returnTo)
			return
		}
		f := g.newFlow(returnTo)
		f.CSRF = secret.Token()
		if err := g.setFlow(w, r, f); err != nil {
			g.internalError(w, r, "encoding login flow", err)
			return
		}
		if g.checking() {
			// Ask Chromium browsers for the hints that tell a phone from a
			// desktop by the time the form is posted.
			w.Header().Set("Accept-CH", AcceptClientHints)
		}
		g.renderLogin(w, r, http.StatusOK, f, "", "")
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
		nf := g.newFlow(returnTo)
		nf.CSRF = secret.Token()
		if err := g.setFlow(w, r, nf); err != nil {
			g.internalError(w, r, "encoding login flow", err)
			return
		}
		g.renderLogin(w, r, http.StatusForbidden, nf, "", "Your sign-in form expired. Please sign in again.")
		return
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	if username == "" || password == "" || len(username) > maxUsernameLen || len(password) > maxPasswordLen {
		g.renderLogin(w, r, http.StatusBadRequest, f, username, "Enter your user name and password.")
		return
	}

	lockKey := "login:" + strings.ToLower(username) + "|" + g.cfg.ClientIP(r)
	// One attempt per user and address at a time on this instance, from
	// the lockout check until a wrong password is counted (lockout.go).
	// The wait has no deadline of its own: password hashing is bound by
	// the CPU, so attempts in parallel would take as long in all.
	release, err := g.attempts.acquire(r.Context(), lockKey)
	if err != nil {
		g.unavailable(w, r, "waiting for earlier sign-in attempts", err)
		return
	}
	defer release()
	// Detached from the request: a client that hangs up (or half-closes
	// its connection and still reads the answer) must not stop its wrong
	// guess from being counted.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	allowed, err := g.passwordAttemptAllowed(ctx, lockKey)
	if err != nil {
		if !g.degrade(r, "counting login attempts", err) {
			g.unavailable(w, r, "counting login attempts", err)
			return
		}
		allowed = true
	}
	if !allowed {
		// Guessing on during a lockout keeps it in force.
		g.attemptFailed(ctx, lockKey)
		release()
		_ = g.record(r, store.AuthLogEntry{User: username, Result: store.ResultDenied, Reason: reasonLockedOut, Factor: "password"})
		g.renderLogin(w, r, http.StatusTooManyRequests, f, username, "Too many failed sign-in attempts. Please wait a while and try again.")
		return
	}

	id, known, ok := g.cfg.Users.Authenticate(username, password)
	if !ok {
		g.attemptFailed(ctx, lockKey)
		release()
		reason := reasonInvalidPassword
		if !known {
			reason = reasonUnknownUser
		}
		_ = g.record(r, store.AuthLogEntry{User: username, Result: store.ResultDenied, Reason: reason, Factor: "password"})
		// One message for every wrong credential: never say which part.
		g.renderLogin(w, r, http.StatusUnauthorized, f, username, "Wrong user name or password.")
		return
	}
	// A correct password neither counts nor clears the failures: many
	// sign-ins at once never lock a person out, and a success does not
	// wipe the count of someone guessing from the same address.
	release()
	g.completeLogin(w, r, f, id, "password")
}

// completeLogin records a successful primary login, then starts the session
// and sends the browser back where it was going. The auth-log entry is
// durable before the session cookie is issued.
func (g *Gate) completeLogin(w http.ResponseWriter, r *http.Request, f *flow, id Identity, factor string) {
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
