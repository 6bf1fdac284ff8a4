package signin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/trustgate/trustgate/prompt/secret"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// OIDCConfig configures primary login through an OpenID Connect provider.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, exactly as it appears in the
	// "iss" claim; discovery reads Issuer + "/.well-known/openid-configuration".
	// It must be https, except on a loopback host.
	Issuer string
	// ClientID is this gateway's client ID at the provider. ID tokens must
	// name it in their audience.
	ClientID string
	// ClientSecret is the client secret. It may be empty for a public client
	// (PKCE is always used).
	ClientSecret string
	// Scopes requested from the provider besides openid, profile and
	// email, which are always requested (profile and email carry the
	// claims the user name is taken from).
	Scopes []string
	// GroupsClaim is the ID-token claim holding the user's groups, an array
	// of strings or a single string. Default: groups.
	GroupsClaim string
	// UserClaim is the ID-token claim used as the user name. When it is
	// set, the claim must be present. When it is not set, the user name is
	// the first non-empty of preferred_username, email (unless
	// email_verified is false) and sub.
	UserClaim string
	// HTTPClient is used for discovery, the token exchange and the key set.
	// Its Timeout is lowered to Timeout when it has none or a longer one.
	// Default: a client whose Timeout is Timeout.
	HTTPClient *http.Client
	// Timeout bounds each outbound call to the provider: discovery, the
	// token exchange and the key set fetch. Default: 10s.
	Timeout time.Duration
	// Now is the clock used to check token expiry. Default: time.Now.
	Now func() time.Time
	// Prompt, when set, is sent as the prompt parameter of every
	// authorization request: "login" makes the provider ask the person to
	// sign in again even when it still has a session for them.
	Prompt string
	// Logger receives warnings about the provider's answers, such as a
	// user name that fell back to the opaque sub claim. Default: none.
	Logger *zap.Logger
}

// OIDCLogin is an OpenID Connect relying party using the authorization code
// flow with PKCE, state and nonce. It is safe for concurrent use.
type OIDCLogin struct {
	cfg OIDCConfig

	// provider is set once discovery has succeeded and never changes after.
	provider atomic.Pointer[oidcProvider]
	// discovering is a one-slot semaphore held while discovery runs, so that
	// a burst of logins against a cold gateway makes one request, and
	// waiters can still give up when their own context ends.
	discovering chan struct{}
	// failedDiscoveries counts failed attempts; a caller that waited while
	// an attempt failed shares that failure instead of retrying at once.
	failedDiscoveries atomic.Uint64
	lastDiscoveryErr  error // guarded by discovering
	// warnedSub is set once the fallback to sub has been logged, so a
	// provider that never sends a name logs it once, not per sign-in.
	warnedSub atomic.Bool
	// rechecks makes one revalidation at a time per session (keyed by
	// session ID) on this instance.
	rechecks singleflight.Group
}

// oidcProvider is what discovery learned about the provider.
type oidcProvider struct {
	// oauth is shared by all logins so that oauth2 remembers which client
	// authentication style the token endpoint accepted.
	oauth *oauth2.Config
	keys  *oidc.RemoteKeySet
	algs  []string
	// endSession is the provider's end_session_endpoint, if it has one.
	endSession string
}

// NewOIDCLogin checks cfg and fills in its defaults. It does not contact
// the provider: discovery happens on first use, so a provider that is down
// when the gateway starts only fails the logins made while it is down.
func NewOIDCLogin(cfg OIDCConfig) (*OIDCLogin, error) {
	if err := checkIssuer(cfg.Issuer); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("oidc: client_id is required")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("oidc: timeout must not be negative, got %s", cfg.Timeout)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	switch {
	case cfg.HTTPClient == nil:
		cfg.HTTPClient = &http.Client{Timeout: cfg.Timeout}
	case cfg.HTTPClient.Timeout == 0 || cfg.HTTPClient.Timeout > cfg.Timeout:
		// The key set is fetched in the background with this client
		// alone (go-oidc's RemoteKeySet takes no per-call context for
		// the fetch), so the client itself must give up in time, or a
		// hanging provider would hold the one fetch in flight forever.
		c := *cfg.HTTPClient
		c.Timeout = cfg.Timeout
		cfg.HTTPClient = &c
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.GroupsClaim == "" {
		cfg.GroupsClaim = "groups"
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	// Configured scopes add to the defaults: replacing them lost the
	// profile and email claims, and the user name became the opaque sub.
	scopes := []string{oidc.ScopeOpenID, "profile", "email"}
	for _, s := range cfg.Scopes {
		if s != "" && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	cfg.Scopes = scopes
	return &OIDCLogin{cfg: cfg, discovering: make(chan struct{}, 1)}, nil
}

// checkIssuer refuses issuers that discovery or token validation could not
// match safely: plain http to a remote host would let anyone on the path
// mint identities.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return errors.New("oidc: issuer is required")
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return fmt.Errorf("oidc: parsing issuer: %w", err)
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("oidc: issuer %q must be an absolute URL without user info, query or fragment", issuer)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return fmt.Errorf("oidc: issuer %q must use https", issuer)
		}
	default:
		return fmt.Errorf("oidc: issuer %q must use https", issuer)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// AuthCodeURL returns the provider URL to send the browser to, carrying
// state, nonce and the PKCE S256 challenge derived from codeVerifier.
func (o *OIDCLogin) AuthCodeURL(ctx context.Context, redirectURI, state, nonce, codeVerifier string) (string, error) {
	if redirectURI == "" || state == "" || nonce == "" || codeVerifier == "" {
		return "", &LoginError{Reason: ReasonInvalidRequest, Err: errors.New("redirect URI, state, nonce and PKCE verifier are all required")}
	}
	p, err := o.discover(ctx)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{
		oidc.Nonce(nonce),
		oauth2.S256ChallengeOption(codeVerifier),
		oauth2.SetAuthURLParam("redirect_uri", redirectURI),
	}
	if o.cfg.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", o.cfg.Prompt))
	}
	return p.oauth.AuthCodeURL(state, opts...), nil
}

// Exchange redeems code at the token endpoint (proving possession of
// codeVerifier), verifies the ID token it returns (signature from the
// provider's key set, issuer, audience, expiry) and that its nonce is
// nonce, and returns the identity its claims describe.
func (o *OIDCLogin) Exchange(ctx context.Context, redirectURI, code, codeVerifier, nonce string) (Identity, error) {
	id, _, err := o.ExchangeTokens(ctx, redirectURI, code, codeVerifier, nonce)
	return id, err
}

// OIDCTokens are the provider's tokens that a sign-in keeps on the server
// (never in a cookie or a log): the raw ID token, sent back as
// id_token_hint at sign-out, and the refresh token, if the provider gave
// one, used to ask it again whether the person may still sign in.
type OIDCTokens struct {
	IDToken      string `json:"i,omitempty"`
	RefreshToken string `json:"r,omitempty"`
}

// ExchangeTokens is Exchange that also returns the tokens to keep.
func (o *OIDCLogin) ExchangeTokens(ctx context.Context, redirectURI, code, codeVerifier, nonce string) (Identity, OIDCTokens, error) {
	switch {
	case code == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonExchangeFailed, Err: errors.New("no authorization code in the callback")}
	case codeVerifier == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonExchangeFailed, Err: errors.New("no PKCE verifier for this sign-in")}
	case nonce == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonInvalidNonce, Err: errors.New("no nonce for this sign-in")}
	case redirectURI == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonInvalidRequest, Err: errors.New("redirect URI is required")}
	}
	p, err := o.discover(ctx)
	if err != nil {
		return Identity{}, OIDCTokens{}, err
	}

	exchangeCtx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Timeout)
	token, err := p.oauth.Exchange(exchangeCtx, code,
		oauth2.VerifierOption(codeVerifier),
		oauth2.SetAuthURLParam("redirect_uri", redirectURI),
	)
	cancel()
	if err != nil {
		return Identity{}, OIDCTokens{}, exchangeError(err)
	}
	rawIDToken, _ := token.Extra("id_token").(string)
	if rawIDToken == "" {
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonInvalidToken, Err: errors.New("token response has no id_token")}
	}

	idToken, err := o.verify(ctx, p, rawIDToken)
	if err != nil {
		return Identity{}, OIDCTokens{}, err
	}
	if !secret.Equal(idToken.Nonce, nonce) {
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonInvalidNonce, Err: errors.New("id token nonce does not match this sign-in")}
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return Identity{}, OIDCTokens{}, &LoginError{Reason: ReasonInvalidToken, Err: fmt.Errorf("decoding id token claims: %w", err)}
	}
	id, err := o.identity(claims)
	if err != nil {
		return Identity{}, OIDCTokens{}, err
	}
	return id, OIDCTokens{IDToken: rawIDToken, RefreshToken: token.RefreshToken}, nil
}

// discover returns the provider's metadata, fetching it on first use. A
// failure is not remembered beyond the callers already waiting for it: the
// next login tries again.
func (o *OIDCLogin) discover(ctx context.Context) (*oidcProvider, error) {
	if p := o.provider.Load(); p != nil {
		return p, nil
	}
	failuresBefore := o.failedDiscoveries.Load()
	select {
	case o.discovering <- struct{}{}:
	case <-ctx.Done():
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("waiting for provider discovery: %w", ctx.Err())}
	}
	defer func() { <-o.discovering }()

	if p := o.provider.Load(); p != nil {
		return p, nil
	}
	if o.failedDiscoveries.Load() != failuresBefore {
		return nil, o.lastDiscoveryErr
	}
	// Discovery is shared by every waiting login, so one browser giving
	// up must not fail it for the others; the timeout still bounds it.
	p, err := o.fetchProvider(context.WithoutCancel(ctx))
	if err != nil {
		o.lastDiscoveryErr = err
		o.failedDiscoveries.Add(1)
		return nil, o.lastDiscoveryErr
	}
	o.provider.Store(p)
	return p, nil
}

// NewPKCEVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random
// octets).
func NewPKCEVerifier() string { return oauth2.GenerateVerifier() }
