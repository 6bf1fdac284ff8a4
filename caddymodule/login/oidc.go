package login

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
)

func init() {
	caddy.RegisterModule(OIDCLogin{})
}

// oidcPrompts are the prompt values the gateway may send with every
// authorization request ("none" would fail every interactive sign-in).
var oidcPrompts = []string{"login", "consent", "select_account"}

// OIDCLogin signs people in through an OpenID Connect provider
// (authorization code flow with PKCE, state and nonce): the
// trusted_endpoints.login.oidc module. In JSON:
//
//	"login": {"source": "oidc", "issuer": "https://idp.example.com", "client_id": "crm", ...}
type OIDCLogin struct {
	// Issuer is the provider's issuer URL; its discovery document is read
	// from Issuer + /.well-known/openid-configuration.
	Issuer string `json:"issuer"`
	// ClientID is this gateway's client ID at the provider.
	ClientID string `json:"client_id"`
	// ClientSecret is this gateway's client secret; use {env.*}.
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes requested besides openid, profile and email, which are
	// always requested.
	Scopes []string `json:"scopes,omitempty"`
	// GroupsClaim is the ID-token claim that holds the user's groups.
	// Default: groups.
	GroupsClaim string `json:"groups_claim,omitempty"`
	// UserClaim is the ID-token claim used as the user name.
	// Default: preferred_username, then email, then sub.
	UserClaim string `json:"user_claim,omitempty"`
	// RedirectURL is the callback URL registered at the provider.
	// Default: this site's scheme and host + /.trustgate/oidc/callback.
	RedirectURL string `json:"redirect_url,omitempty"`
	// Timeout bounds each call to the provider. Default: 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// LogoutRedirect, when set, is where sign-out sends the browser
	// instead of the provider's end_session_endpoint (which gets
	// id_token_hint, client_id and a post_logout_redirect_uri back to
	// /.trustgate/logout). An absolute http(s) URL.
	LogoutRedirect string `json:"logout_redirect,omitempty"`
	// Prompt is sent as the prompt parameter of every authorization
	// request; "login" makes the provider ask for a fresh sign-in each
	// time. One of login, consent, select_account. Default: none.
	Prompt string `json:"prompt,omitempty"`
	// Revalidate, when set, is how long after sign-in (or the last check)
	// the next request asks the provider again, with the refresh token
	// kept in the store, whether the person may still sign in. A person
	// the provider refuses is signed out everywhere; a provider that
	// cannot be asked is handled per fail_mode. Default: never.
	Revalidate caddy.Duration `json:"revalidate,omitempty"`

	// login is the relying party, built by ConfigureGate and checked
	// against the provider by CheckLogin.
	login *signin.OIDCLogin
}

// CaddyModule returns the Caddy module information.
func (OIDCLogin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  Namespace + ".oidc",
		New: func() caddy.Module { return new(OIDCLogin) },
	}
}

// Validate reports every error in the OIDC settings, JSON or Caddyfile
// alike (the Caddyfile adds the line). The issuer's form and the timeout
// are checked once, by prompt.NewOIDCLogin in ConfigureGate, after the
// placeholders are replaced.
func (o *OIDCLogin) Validate() error {
	return errors.Join(
		o.checkRequired(),
		checkOIDCLogoutRedirect(o.LogoutRedirect),
		checkOIDCPrompt(o.Prompt),
	)
}

// checkRequired refuses settings without an issuer or client ID.
func (o *OIDCLogin) checkRequired() error {
	if o.Issuer == "" {
		return errors.New("login oidc: issuer is required")
	}
	if o.ClientID == "" {
		return errors.New("login oidc: client_id is required")
	}
	return nil
}

// checkOIDCLogoutRedirect accepts "" or an absolute http(s) URL.
func checkOIDCLogoutRedirect(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("login oidc: logout_redirect %q must be an absolute http(s) URL", s)
	}
	return nil
}

// checkOIDCPrompt accepts "" or one of oidcPrompts.
func checkOIDCPrompt(s string) error {
	if s != "" && !slices.Contains(oidcPrompts, s) {
		return fmt.Errorf("login oidc: prompt %q: want one of %v", s, oidcPrompts)
	}
	return nil
}

// ConfigureGate builds the relying party into cfg.OIDC, with cfg.Logger as
// its logger, and sets the gate's OIDC settings.
func (o *OIDCLogin) ConfigureGate(cfg *prompt.Config) error {
	repl := caddy.NewReplacer()
	login, err := signin.NewOIDCLogin(signin.OIDCConfig{
		Issuer:       repl.ReplaceKnown(o.Issuer, ""),
		ClientID:     repl.ReplaceKnown(o.ClientID, ""),
		ClientSecret: repl.ReplaceKnown(o.ClientSecret, ""),
		Scopes:       o.Scopes,
		GroupsClaim:  o.GroupsClaim,
		UserClaim:    o.UserClaim,
		Timeout:      time.Duration(o.Timeout),
		Prompt:       o.Prompt,
		Logger:       cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("login oidc: %w", err)
	}
	o.login = login
	cfg.OIDC = login
	cfg.OIDCRedirectURL = repl.ReplaceKnown(o.RedirectURL, "")
	cfg.OIDCLogoutRedirect = repl.ReplaceKnown(o.LogoutRedirect, "")
	cfg.OIDCRevalidate = time.Duration(o.Revalidate)
	return nil
}

// Realm names the provider's issuer and this gateway's client ID there.
func (o *OIDCLogin) Realm() (string, error) {
	repl := caddy.NewReplacer()
	return session.OIDCRealm(repl.ReplaceKnown(o.Issuer, ""), repl.ReplaceKnown(o.ClientID, "")), nil
}

// Interface guards
var (
	_ Login           = (*OIDCLogin)(nil)
	_ LoginChecker    = (*OIDCLogin)(nil)
	_ caddy.Validator = (*OIDCLogin)(nil)
)
