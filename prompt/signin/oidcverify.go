package signin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// asymmetricAlgs are the only ID-token signing algorithms accepted.
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
			return &LoginError{Reason: ReasonProviderUnavailable, Err: cause}
		}
		if re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client" {
			return &LoginError{Reason: ReasonUnknownClient, Err: fmt.Errorf("%w: the provider does not accept this client_id and client_secret", cause)}
		}
		return &LoginError{Reason: ReasonExchangeFailed, Err: cause}
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
		return &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("calling token endpoint: %w", err)}
	}
	// A 2xx answer that is not a usable token response.
	return &LoginError{Reason: ReasonExchangeFailed, Err: fmt.Errorf("reading token response: %w", err)}
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
			return nil, &LoginError{Reason: ReasonInvalidToken, Err: fmt.Errorf("decoding id token claims: %w", err)}
		}
		if azp.AuthorizedParty != "" && azp.AuthorizedParty != o.cfg.ClientID {
			return nil, &LoginError{Reason: ReasonInvalidAudience, Err: fmt.Errorf("id token authorized party is %q, not this client", azp.AuthorizedParty)}
		}
		return token, nil
	}
	if keys.fetchErr != nil {
		return nil, &LoginError{Reason: ReasonProviderUnavailable, Err: fmt.Errorf("fetching provider keys: %w", keys.fetchErr)}
	}
	var expired *oidc.TokenExpiredError
	if errors.As(err, &expired) {
		return nil, &LoginError{Reason: ReasonTokenExpired, Err: fmt.Errorf("id token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))}
	}
	unchecked, uerr := oidc.NewVerifier(o.cfg.Issuer, keys, &oidc.Config{
		SupportedSigningAlgs: p.algs,
		SkipClientIDCheck:    true,
		SkipExpiryCheck:      true,
	}).Verify(ctx, rawIDToken)
	if uerr == nil && !slices.Contains(unchecked.Audience, o.cfg.ClientID) {
		return nil, &LoginError{Reason: ReasonInvalidAudience, Err: fmt.Errorf("id token audience %q does not include this client", unchecked.Audience)}
	}
	return nil, &LoginError{Reason: ReasonInvalidToken, Err: fmt.Errorf("verifying id token: %w", err)}
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

// Interface guards.
var _ oidc.KeySet = (*keySetProbe)(nil)
