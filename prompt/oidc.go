package prompt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/trustgate/trustgate/prompt/secret"
	"go.uber.org/zap"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"
)

// Reasons an OIDC login is refused, as recorded in the auth log.
const (
	reasonProviderUnavailable = "provider_unavailable"
	reasonExchangeFailed      = "exchange_failed"
	reasonInvalidToken        = "invalid_token"
	reasonInvalidAudience     = "invalid_audience"
	reasonTokenExpired        = "token_expired"
	reasonInvalidNonce        = "invalid_nonce"
	reasonMissingClaim        = "missing_claim"
	// reasonInvalidRequest means the caller passed an empty state, nonce,
	// verifier or redirect URI: a bug on our side, not the person's.
	reasonInvalidRequest = "invalid_request"
)

// defaultUserClaims are tried in order when no user claim is configured.
var defaultUserClaims = []string{"preferred_username", "email", "sub"}

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
		return "", &LoginError{Reason: reasonInvalidRequest, Err: errors.New("redirect URI, state, nonce and PKCE verifier are all required")}
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
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonExchangeFailed, Err: errors.New("no authorization code in the callback")}
	case codeVerifier == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonExchangeFailed, Err: errors.New("no PKCE verifier for this sign-in")}
	case nonce == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonInvalidNonce, Err: errors.New("no nonce for this sign-in")}
	case redirectURI == "":
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonInvalidRequest, Err: errors.New("redirect URI is required")}
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
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonInvalidToken, Err: errors.New("token response has no id_token")}
	}

	idToken, err := o.verify(ctx, p, rawIDToken)
	if err != nil {
		return Identity{}, OIDCTokens{}, err
	}
	if !secret.Equal(idToken.Nonce, nonce) {
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonInvalidNonce, Err: errors.New("id token nonce does not match this sign-in")}
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		return Identity{}, OIDCTokens{}, &LoginError{Reason: reasonInvalidToken, Err: fmt.Errorf("decoding id token claims: %w", err)}
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
		return nil, &LoginError{Reason: reasonProviderUnavailable, Err: fmt.Errorf("waiting for provider discovery: %w", ctx.Err())}
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

var asymmetricAlgs = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// exchangeError classifies a failed token request. The provider's
// error_description is left out on purpose: some providers echo the code.
func exchangeError(err error) *LoginError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		cause := fmt.Errorf("token endpoint answered status %d, error %q", status, truncate(re.ErrorCode, 64))
		if status >= 500 {
			return &LoginError{Reason: reasonProviderUnavailable, Err: cause}
		}
		if re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
			return &LoginError{Reason: reasonUnknownClient, Err: fmt.Errorf("%w: the provider does not accept this client_id and client_secret", cause)}
		}
		return &LoginError{Reason: reasonExchangeFailed, Err: cause}
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		return &LoginError{Reason: reasonProviderUnavailable, Err: fmt.Errorf("calling token endpoint: %w", err)}
	}
	// A 2xx answer that is not a usable token response.
	return &LoginError{Reason: reasonExchangeFailed, Err: fmt.Errorf("reading token response: %w", err)}
}

// verify checks the ID token with go-oidc. go-oidc reports a wrong audience
// as an untyped error, so when the full check fails for another reason
// than expiry, a second pass without the audience and expiry checks tells
// a token for another client apart from a forged or malformed one.
func (o *OIDCLogin) verify(ctx context.Context, p *oidcProvider, rawIDToken string) (*oidc.IDToken, error) {
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Timeout)
	defer cancel()

	keys := &keySetProbe{keys: p.keys}
	token, err := oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{
		ClientID:             o.cfg.ClientID,
		SupportedSigningAlgs: p.algs,
		Now:                  o.cfg.Now,
	}).Verify(ctx, rawIDToken)
	if err == nil {
		// OIDC Core 3.1.3.7: if azp is present it must be this client.
		var azp struct {
			AuthorizedParty string `json:"azp"`
		}
		if err := token.Claims(&azp); err != nil {
			return nil, &LoginError{Reason: reasonInvalidToken, Err: fmt.Errorf("decoding id token claims: %w", err)}
		}
		if azp.AuthorizedParty != "" && azp.AuthorizedParty != o.cfg.ClientID {
			return nil, &LoginError{Reason: reasonInvalidAudience, Err: fmt.Errorf("id token authorized party is %q, not this client", azp.AuthorizedParty)}
		}
		return token, nil
	}
	if keys.fetchErr != nil {
		return nil, &LoginError{Reason: reasonProviderUnavailable, Err: fmt.Errorf("fetching provider keys: %w", keys.fetchErr)}
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return nil, &LoginError{Reason: reasonTokenExpired, Err: fmt.Errorf("id token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))}
	}
	unchecked, uerr := oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{
		SupportedSigningAlgs: p.algs,
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
	}).Verify(ctx, rawIDToken)
	if uerr == nil && !slices.Contains(unchecked.Audience, o.cfg.ClientID) {
		return nil, &LoginError{Reason: reasonInvalidAudience, Err: fmt.Errorf("id token audience %q does not include this client", unchecked.Audience)}
	}
	return nil, &LoginError{Reason: reasonInvalidToken, Err: fmt.Errorf("verifying id token: %w", err)}
}

// keySetProbe remembers whether the provider's key set could not be
// fetched, which go-oidc otherwise reports like a bad signature. go-oidc's
// RemoteKeySet wraps transport failures (%w) and returns a bare error for
// a signature that no key verifies.
type keySetProbe struct {
	keys     oidc.KeySet
	fetchErr error
}

func (k *keySetProbe) VerifySignature(ctx context.Context, jwt string) ([]byte, error) {
	payload, err := k.keys.VerifySignature(ctx, jwt)
	if err != nil && errors.Unwrap(err) != nil {
		k.fetchErr = err
	}
	return payload, err
}

// identity maps verified claims to an Identity.
func (o *OIDCLogin) identity(claims map[string]any) (Identity, error) {
	email, _ := claims["email"].(string)
	if isFalse(claims["email_verified"]) {
		// An address the provider has not verified may belong to
		// someone else; never use it to name or describe the user.
		email = ""
	}
	claimValue := func(name string) string {
		if name == "email" {
			return email
		}
		s, _ := claims[name].(string)
		return s
	}

	var user string
	if o.cfg.UserClaim != "" {
		// A configured claim is not silently replaced by another one,
		// which could make two people look alike to the upstream app.
		user = claimValue(o.cfg.UserClaim)
		if user == "" {
			return Identity{}, &LoginError{Reason: reasonMissingClaim, Err: fmt.Errorf("id token has no %q claim", o.cfg.UserClaim)}
		}
	} else {
		var from string
		for _, from = range defaultUserClaims {
			if user = claimValue(from); user != "" {
				break
			}
		}
		if user == "" {
			return Identity{}, &LoginError{Reason: reasonMissingClaim, Err: fmt.Errorf("id token has none of the claims %q", defaultUserClaims)}
		}
		if from == "sub" && !o.warnedSub.Swap(true) {
			o.cfg.Logger.Warn("OIDC user name fell back to the provider's opaque sub claim: the ID token has no preferred_username and no verified email; set user_claim, or have the provider send one of them",
				zap.String("issuer", o.cfg.Issuer), zap.String("user", user))
		}
	}

	groups, err := groupsClaim(claims[o.cfg.GroupsClaim])
	if err != nil {
		return Identity{}, &LoginError{Reason: reasonInvalidToken, Err: fmt.Errorf("claim %q: %w", o.cfg.GroupsClaim, err)}
	}
	return Identity{User: user, Email: email, Groups: groups}, nil
}

// groupsClaim accepts an array of strings or a single string; a missing
// claim means no groups.
func groupsClaim(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		if v == "" {
			return nil, nil
		}
		return []string{v}, nil
	case []any:
		groups := make([]string, 0, len(v))
		for _, g := range v {
			s, ok := g.(string)
			if !ok {
				return nil, fmt.Errorf("groups must be strings, got %T", g)
			}
			if s != "" {
				groups = append(groups, s)
			}
		}
		return groups, nil
	default:
		return nil, fmt.Errorf("groups must be a string or an array of strings, got %T", v)
	}
}

// isFalse reports an explicit false, as a JSON boolean or, as some
// providers send it, a string.
func isFalse(v any) bool {
	switch v := v.(type) {
	case bool:
		return !v
	case string:
		return strings.EqualFold(v, "false")
	}
	return false
}

// NewPKCEVerifier returns a fresh PKCE code verifier (RFC 7636, 32 random
// octets).
func NewPKCEVerifier() string { return oauth2.GenerateVerifier() }
