package signin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/trustgate/trustgate/prompt/secret"
)

// CallbackError classifies an error the provider sent back to the
// callback (its error and error_description parameters). The ones that
// say the gateway is set up wrong are told apart from a person who
// cancelled or was refused (ReasonProviderError).
func CallbackError(code, description string) *LoginError {
	err := fmt.Errorf("provider returned error %q: %q", truncate(code, 64), truncate(description, 200))
	switch {
	case code == "invalid_client" || code == "unauthorized_client":
		return &LoginError{Reason: ReasonUnknownClient, Err: err}
	case code == "invalid_scope":
		return &LoginError{Reason: ReasonInvalidScope, Err: fmt.Errorf("%w: check scopes", err)}
	case code == "invalid_request" && strings.Contains(strings.ToLower(description), "redirect"):
		return &LoginError{Reason: ReasonInvalidRedirectURI, Err: fmt.Errorf("%w: register the gateway's redirect URI at the provider, or set redirect_url", err)}
	}
	return &LoginError{Reason: ReasonProviderError, Err: err}
}

// Started is what a browser's flow cookie remembers of the OIDC sign-in
// it started: the state, nonce and PKCE verifier of its authorization
// request.
type Started struct {
	State, Nonce, Verifier string
}

// Start begins a sign-in with a fresh state, nonce and PKCE verifier and
// returns them with the provider URL to send the browser to.
func (o *OIDCLogin) Start(ctx context.Context, redirectURI string) (Started, string, error) {
	s := Started{State: secret.Token(), Nonce: secret.Token(), Verifier: NewPKCEVerifier()}
	authURL, err := o.AuthCodeURL(ctx, redirectURI, s.State, s.Nonce, s.Verifier)
	return s, authURL, err
}

// Callback is one answer of the provider at the callback, and the sign-in
// this browser started (nil when it has no flow cookie).
type Callback struct {
	// State, Code, Error and ErrorDescription are the callback's query
	// parameters.
	State, Code, Error, ErrorDescription string
	// Started is what the browser's flow cookie remembers, and Expires
	// when that flow ends.
	Started *Started
	Expires time.Time
	// RedirectURI is the one the authorization request named.
	RedirectURI string
	// SessionEnds is when the session the sign-in starts would end; the
	// provider tokens are kept until then.
	SessionEnds time.Time
}

// SignedIn is a sign-in that the provider vouched for.
type SignedIn struct {
	Identity Identity
	// ProviderRef names the provider tokens kept for the session ("" when
	// none were kept), and RecheckAt (Unix seconds; 0 without
	// revalidation) is when to ask the provider again.
	ProviderRef string
	RecheckAt   int64
}

// Redeem finishes an OIDC sign-in: the state must be the one this browser
// started and must not have been used before, on any instance, and the
// code must redeem for an ID token that verifies and carries the nonce.
// spent reports that the browser's flow is used up (its state can never
// be used again), whatever else went wrong. A refusal is a *LoginError;
// any other error means the store failed and outage gave up.
func (s *OIDCSessions) Redeem(ctx context.Context, cb Callback, outage Outage) (in SignedIn, spent bool, err error) {
	if cb.Started == nil || cb.Started.State == "" || !secret.Equal(cb.State, cb.Started.State) {
		return SignedIn{}, false, &LoginError{Reason: ReasonInvalidState, Err: errors.New("state does not match this browser's sign-in")}
	}
	// The state is single-use across every instance: a replayed callback
	// (same browser, same cookie) is refused even if the provider would
	// accept its code again.
	sctx, cancel := context.WithTimeout(ctx, storeTimeout)
	fresh, err := s.Store.UseOnce(sctx, "oidc-state:"+cb.Started.State, cb.Expires)
	cancel()
	if err != nil {
		const step = "consuming OIDC state"
		if !outage(step, err) {
			return SignedIn{}, false, fmt.Errorf("%s: %w", step, err)
		}
		// The state still had to match this browser's own flow cookie.
		fresh = true
	}
	switch {
	case !fresh:
		return SignedIn{}, true, &LoginError{Reason: ReasonInvalidState, Err: errors.New("sign-in response already used")}
	case cb.Error != "":
		return SignedIn{}, true, CallbackError(cb.Error, cb.ErrorDescription)
	}
	id, tokens, err := s.Login.ExchangeTokens(ctx, cb.RedirectURI, cb.Code, cb.Started.Verifier, cb.Started.Nonce)
	if err != nil {
		return SignedIn{}, true, err
	}
	in = SignedIn{Identity: id}
	if s.KeepsTokens(ctx) {
		in.ProviderRef = s.Keep(ctx, tokens, cb.SessionEnds)
	}
	if s.Revalidate > 0 {
		in.RecheckAt = s.Now().Add(s.Revalidate).Unix()
	}
	return in, true, nil
}
