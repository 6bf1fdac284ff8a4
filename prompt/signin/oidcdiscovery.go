package signin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// providerMetadata is the part of the discovery document the gateway uses.
type providerMetadata struct {
	Issuer             string   `json:"issuer"`
	AuthURL            string   `json:"authorization_endpoint"`
	TokenURL           string   `json:"token_endpoint"`
	JWKSURI            string   `json:"jwks_uri"`
	Algs               []string `json:"id_token_signing_alg_values_supported"`
	EndSessionEndpoint string   `json:"end_session_endpoint"`
	ClaimsSupported    []string `json:"claims_supported"`
}

// maxDiscoveryBytes bounds the discovery document read into memory.
const maxDiscoveryBytes = 1 << 20

// fetchMetadata reads the provider's discovery document. A provider that
// cannot be reached or answers 5xx is unavailable; one that answers with
// no provider at that URL or with another issuer is misconfigured.
func (o *OIDCLogin) fetchMetadata(ctx context.Context) (*providerMetadata, error) {
	ctx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	wellKnown := strings.TrimSuffix(o.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, wellKnown, nil)
	if err != nil {
		return nil, &LoginError{Reason: ReasonIssuerMismatch, Err: fmt.Errorf("discovery URL %s: %w", wellKnown, err)}
	}
	resp, err := o.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("discovering provider %s: %w", o.cfg.Issuer, err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes))
	if err != nil {
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("reading discovery document %s: %w", wellKnown, err)}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, &LoginError{Reason: ReasonIssuerMismatch, Err: fmt.Errorf("no OpenID provider at issuer %q: %s answered %s; check issuer", o.cfg.Issuer, wellKnown, resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("discovering provider %s: %s answered %s", o.cfg.Issuer, wellKnown, resp.Status)}
	}
	var m providerMetadata
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &LoginError{Reason: ReasonIssuerMismatch, Err: fmt.Errorf("no OpenID provider at issuer %q: %s is not a discovery document (%v); check issuer", o.cfg.Issuer, wellKnown, err)}
	}
	if m.Issuer != o.cfg.Issuer {
		// go-oidc would refuse every token anyway: their iss is m.Issuer.
		return nil, &LoginError{Reason: ReasonIssuerMismatch, Err: fmt.Errorf("issuer mismatch: configured issuer %q, but the provider names itself %q; set issuer to exactly %q", o.cfg.Issuer, m.Issuer, m.Issuer)}
	}
	if m.AuthURL == "" || m.TokenURL == "" || m.JWKSURI == "" {
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("provider %s publishes no authorization_endpoint, token_endpoint or jwks_uri", o.cfg.Issuer)}
	}
	return &m, nil
}

func (o *OIDCLogin) fetchProvider(ctx context.Context) (*oidcProvider, error) {
	m, err := o.fetchMetadata(ctx)
	if err != nil {
		return nil, err
	}
	// Only asymmetric algorithms: "none" or an HMAC keyed with our client
	// secret must never be accepted, whatever the provider advertises.
	var algs []string
	for _, a := range m.Algs {
		if slices.Contains(asymmetricAlgs, a) {
			algs = append(algs, a)
		}
	}
	return &oidcProvider{
		oauth: &oauth2.Config{
			ClientID:     o.cfg.ClientID,
			ClientSecret: o.cfg.ClientSecret,
			Endpoint:     oauth2.Endpoint{AuthURL: m.AuthURL, TokenURL: m.TokenURL},
			Scopes:       o.cfg.Scopes,
		},
		keys:       oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), o.cfg.HTTPClient), m.JWKSURI),
		algs:       algs,
		endSession: m.EndSessionEndpoint,
	}, nil
}

// CheckProvider reads the provider's discovery document once, without
// keeping it, and returns what a sign-in would fail with: a configuration
// error (IsConfigurationError) when the provider answers but not as
// configured, another *LoginError when it cannot be reached. It is meant
// for start-up and `validate`; ctx bounds it. warnings are settings that
// work but probably not as meant.
func (o *OIDCLogin) CheckProvider(ctx context.Context) (warnings []string, err error) {
	m, err := o.fetchMetadata(ctx)
	if err != nil {
		return nil, err
	}
	claims := m.ClaimsSupported
	switch {
	case len(claims) == 0:
		// The provider does not say which claims it sends.
	case o.cfg.UserClaim != "" && !slices.Contains(claims, o.cfg.UserClaim):
		warnings = append(warnings, fmt.Sprintf("the provider does not list user_claim %q among its claims_supported %q: sign-ins may fail with missing_claim", o.cfg.UserClaim, claims))
	case o.cfg.UserClaim == "" && !slices.Contains(claims, "preferred_username") && !slices.Contains(claims, "email"):
		warnings = append(warnings, fmt.Sprintf("the provider lists neither preferred_username nor email among its claims_supported %q: user names will be its opaque sub claim; set user_claim", claims))
	}
	return warnings, nil
}

// Issuer returns the configured issuer.
func (o *OIDCLogin) Issuer() string { return o.cfg.Issuer }

// ClientID returns the configured client ID.
func (o *OIDCLogin) ClientID() string { return o.cfg.ClientID }
