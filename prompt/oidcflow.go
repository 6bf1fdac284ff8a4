package prompt

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// startOIDC sends the browser to the provider with a fresh state, nonce and
// PKCE verifier, remembered in the flow cookie.
func (g *Gate) startOIDC(w http.ResponseWriter, r *http.Request, returnTo string) error {
	started, authURL, err := g.cfg.OIDC.Start(r.Context(), g.redirectURL(r))
	if err != nil {
		return g.oidcFailed(w, r, err, returnTo)
	}
	f := g.newFlow(returnTo)
	f.State, f.Nonce, f.Verifier = started.State, started.Nonce, started.Verifier
	if err := g.setFlow(w, r, f); err != nil {
		return errInternal("encoding login flow", err)
	}
	web.NoStore(w)
	http.Redirect(w, r, authURL, http.StatusFound)
	return nil
}

// serveOIDCCallback finishes an OIDC login (signin.OIDCSessions.Redeem)
// with the provider's answer and this browser's flow cookie.
func (g *Gate) serveOIDCCallback(w http.ResponseWriter, r *http.Request) error {
	if g.cfg.OIDC == nil {
		return g.notFound(w, r)
	}
	q := r.URL.Query()
	cb := signin.Callback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
		RedirectURI: g.redirectURL(r), SessionEnds: g.cfg.Now().Add(g.cfg.SessionLifetime + session.FlowLifetime),
	}
	// Without a flow, "start again" leads home; with this browser's own
	// flow, its page is still the one wanted.
	returnTo := "/"
	f := g.readFlow(r)
	if f != nil {
		returnTo = f.Return
		cb.Started = &signin.Started{State: f.State, Nonce: f.Nonce, Verifier: f.Verifier}
		cb.Expires = time.Unix(f.ExpiresAt, 0)
	}
	in, spent, err := g.oidcSessions().Redeem(r.Context(), cb, func(step string, err error) bool {
		return g.degrade(r, step, err)
	})
	if spent {
		g.clearFlow(w, r)
	}
	var le *signin.LoginError
	switch {
	case errors.As(err, &le):
		return g.oidcFailed(w, r, err, returnTo)
	case err != nil:
		return g.errUnavailable(r, "completing an OIDC sign-in", err)
	}
	id := sessionIdentity(in.Identity)
	id.ProviderRef, id.RecheckAt = in.ProviderRef, in.RecheckAt
	return g.completeLogin(w, r, f, id, "oidc") // f is set: its state matched
}

// oidcFailed records a refused OIDC login and shows a page that says what
// the person can do. "Start again" leads back to returnTo, the page the
// person wanted. The refusal is logged here.
func (g *Gate) oidcFailed(w http.ResponseWriter, r *http.Request, err error, returnTo string) error {
	reason := signin.ReasonOf(err, "error")
	result, title := store.ResultDenied, "Sign-in failed"
	status, msg := http.StatusForbidden, "Your sign-in could not be verified. Please start again."
	link := ReservedPrefix + "login?return=" + url.QueryEscape(SafeReturn(returnTo))
	if signin.IsConfigurationError(err) {
		// Trying again does not help: say so, and tell the operator why.
		g.cfg.Logger.Error("OIDC sign-in is misconfigured", zap.String("reason", reason), zap.Error(err))
		_ = g.record(r, store.AuthLogEntry{Result: store.ResultError, Reason: reason, Factor: "oidc", Detail: truncate(err.Error(), 256)})
		return pageErr(http.StatusInternalServerError, "Sign-in misconfigured",
			"This sign-in is misconfigured, so nobody can sign in here until it is fixed. Please tell the administrator of this site.", "")
	}
	switch reason {
	case signin.ReasonProviderUnavailable:
		// Down, slow or answering errors: each call gave up within the
		// provider timeout, and the person is told to come back.
		result = store.ResultError
		title = "Sign-in provider unreachable"
		status, msg = http.StatusServiceUnavailable, "The identity provider cannot be reached right now. Please try again in a minute."
		w.Header().Set("Retry-After", "60")
	case signin.ReasonInvalidState:
		msg = "Your sign-in took too long, was already used, or was started in another browser. Please start again."
	case signin.ReasonProviderError:
		msg = "The identity provider did not sign you in. Please start again."
	}
	g.cfg.Logger.Warn("OIDC sign-in refused", zap.Error(err))
	_ = g.record(r, store.AuthLogEntry{Result: result, Reason: reason, Factor: "oidc", Detail: truncate(err.Error(), 256)})
	return pageErr(status, title, msg, link)
}

func (g *Gate) redirectURL(r *http.Request) string {
	if g.cfg.OIDCRedirectURL != "" {
		return g.cfg.OIDCRedirectURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + ReservedPrefix + "oidc/callback"
}
