package prompt

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/web"
)

// startOIDC sends the browser to the provider with a fresh state, nonce and
// PKCE verifier, remembered in the flow cookie.
func (g *Gate) startOIDC(w http.ResponseWriter, r *http.Request, returnTo string) {
	f := g.newFlow(returnTo)
	f.State, f.Nonce, f.Verifier = secret.Token(), secret.Token(), signin.NewPKCEVerifier()
	authURL, err := g.cfg.OIDC.AuthCodeURL(r.Context(), g.redirectURL(r), f.State, f.Nonce, f.Verifier)
	if err != nil {
		g.oidcFailed(w, r, err, returnTo)
		return
	}
	if err := g.setFlow(w, r, f); err != nil {
		g.internalError(w, r, "encoding login flow", err)
		return
	}
	web.NoStore(w)
	http.Redirect(w, r, authURL, http.StatusFound)
}

// serveOIDCCallback finishes an OIDC login: the state must match the flow
// cookie of this browser and must not have been used before, and the code
// must redeem for an ID token that go-oidc verifies and whose nonce matches.
func (g *Gate) serveOIDCCallback(w http.ResponseWriter, r *http.Request) {
	if g.cfg.OIDC == nil {
		g.renderMessage(w, r, http.StatusNotFound, "Not found", "There is no such page on this gateway.", "")
		return
	}
	q := r.URL.Query()
	f := g.readFlow(r)
	if f == nil || f.State == "" || !secret.Equal(q.Get("state"), f.State) {
		returnTo := "/"
		if f != nil {
			// This browser's own flow: its page is still the one wanted.
			returnTo = f.Return
		}
		g.oidcFailed(w, r, &signin.LoginError{Reason: signin.ReasonInvalidState, Err: errors.New("state does not match this browser's sign-in")}, returnTo)
		return
	}
	// The state is single-use across every instance: a replayed callback
	// (same browser, same cookie) is refused even if the provider would
	// accept its code again.
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	fresh, err := g.cfg.Store.UseOnce(ctx, "oidc-state:"+f.State, time.Unix(f.ExpiresAt, 0))
	cancel()
	if err != nil {
		if !g.degrade(r, "consuming OIDC state", err) {
			g.unavailable(w, r, "consuming OIDC state", err)
			return
		}
		// The state still had to match this browser's own flow cookie.
		fresh = true
	}
	g.clearFlow(w, r)
	if !fresh {
		g.oidcFailed(w, r, &signin.LoginError{Reason: signin.ReasonInvalidState, Err: errors.New("sign-in response already used")}, f.Return)
		return
	}
	if e := q.Get("error"); e != "" {
		g.oidcFailed(w, r, signin.CallbackError(e, q.Get("error_description")), f.Return)
		return
	}
	proved, tokens, err := g.cfg.OIDC.ExchangeTokens(r.Context(), g.redirectURL(r), q.Get("code"), f.Verifier, f.Nonce)
	if err != nil {
		g.oidcFailed(w, r, err, f.Return)
		return
	}
	id := sessionIdentity(proved)
	if sessions := g.oidcSessions(); sessions.KeepsTokens(r.Context()) {
		id.ProviderRef = sessions.Keep(r.Context(), tokens, g.cfg.Now().Add(g.cfg.SessionLifetime+flowLifetime))
	}
	if g.cfg.OIDCRevalidate > 0 {
		id.RecheckAt = g.cfg.Now().Add(g.cfg.OIDCRevalidate).Unix()
	}
	g.completeLogin(w, r, f, id, "oidc")
}

// oidcFailed records a refused OIDC login and shows a page that says what
// the person can do. "Start again" leads back to returnTo, the page the
// person wanted.
func (g *Gate) oidcFailed(w http.ResponseWriter, r *http.Request, err error, returnTo string) {
	reason := signin.ReasonOf(err, "error")
	result, title := store.ResultDenied, "Sign-in failed"
	status, msg := http.StatusForbidden, "Your sign-in could not be verified. Please start again."
	link := ReservedPrefix + "login?return=" + url.QueryEscape(SafeReturn(returnTo))
	if signin.IsConfigurationError(err) {
		// Trying again does not help: say so, and tell the operator why.
		g.cfg.Logger.Error("OIDC sign-in is misconfigured", zap.String("reason", reason), zap.Error(err))
		_ = g.record(r, store.AuthLogEntry{Result: store.ResultError, Reason: reason, Factor: "oidc", Detail: truncate(err.Error(), 256)})
		g.renderMessage(w, r, http.StatusInternalServerError, "Sign-in misconfigured",
			"This sign-in is misconfigured, so nobody can sign in here until it is fixed. Please tell the administrator of this site.", "")
		return
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
	g.renderMessage(w, r, status, title, msg, link)
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
