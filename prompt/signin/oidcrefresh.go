package signin

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Refresh asks the provider, with a refresh token kept from sign-in,
// whether the person may still sign in. It returns the identity the new ID
// token describes (ok false when the provider sent no ID token, which
// leaves the identity as it was) and the tokens to keep from now on.
// A *LoginError with reason provider_refused means the provider refused
// the person; provider_unavailable that it could not be asked; a
// configuration error (IsConfigurationError) that it refused this client.
func (o *OIDCLogin) Refresh(ctx context.Context, old OIDCTokens) (id Identity, ok bool, tokens OIDCTokens, err error) {
	if old.RefreshToken == "" {
		return Identity{}, false, old, &LoginError{Reason: ReasonProviderRefused, Err: errors.New("no refresh token was kept for this session")}
	}
	p, err := o.discover(ctx)
	if err != nil {
		return Identity{}, false, old, err
	}
	rctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Timeout)
	token, err := p.oauth.TokenSource(rctx, &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	cancel()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			return Identity{}, false, old, &LoginError{Reason: ReasonProviderRefused, Err: errors.New("token endpoint answered invalid_grant to the refresh token")}
		}
		le := exchangeError(err)
		if le.Reason == ReasonExchangeFailed {
			// Any other refusal of the grant itself.
			le.Reason = ReasonProviderRefused
		}
		return Identity{}, false, old, le
	}
	tokens = OIDCTokens{IDToken: old.IDToken, RefreshToken: old.RefreshToken}
	if token.RefreshToken != "" {
		tokens.RefreshToken = token.RefreshToken // rotated
	}
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, false, tokens, nil
	}
	idToken, err := o.verify(ctx, p, raw)
	if err != nil {
		return Identity{}, false, old, err
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return Identity{}, false, old, &LoginError{Reason: ReasonInvalidToken, Err: fmt.Errorf("decoding id token claims: %w", err)}
	}
	if id, err = o.identity(claims); err != nil {
		return Identity{}, false, old, err
	}
	tokens.IDToken = raw
	return id, true, tokens, nil
}

// EndSessionURL returns where to send the browser so that the provider
// ends its own session too (OpenID Connect RP-Initiated Logout 1.0): its
// end_session_endpoint with id_token_hint (when known), client_id and
// post_logout_redirect_uri. It returns "" when the provider advertises no
// end_session_endpoint.
func (o *OIDCLogin) EndSessionURL(ctx context.Context, idTokenHint, postLogoutRedirect string) (string, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	if p.endSession == "" {
		return "", nil
	}
	u, err := url.Parse(p.endSession)
	if err != nil {
		return "", &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("end_session_endpoint: %w", err)}
	}
	q := u.Query()
	if idTokenHint != "" {
		q.Set("id_token_hint", idTokenHint)
	}
	q.Set("client_id", o.cfg.ClientID)
	if postLogoutRedirect != "" {
		q.Set("post_logout_redirect_uri", postLogoutRedirect)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
