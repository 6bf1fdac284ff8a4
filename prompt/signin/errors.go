package signin

import (
	"errors"
	"strings"
)

// LoginError is a refused or failed primary login. Reason is a short
// machine-readable code for the auth log (invalid_state, invalid_nonce,
// token_expired, ...); Err is the cause, for the operator's log only.
type LoginError struct {
	Reason string
	Err    error
}

func (e *LoginError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *LoginError) Unwrap() error { return e.Err }

// Reasons a sign-in is refused, as recorded in the auth log.
const (
	// ReasonInvalidPassword and ReasonUnknownUser are a wrong password for
	// a known user and a user name the users file does not hold; the
	// person is told the same for both.
	ReasonInvalidPassword = "invalid_password"
	ReasonUnknownUser     = "unknown_user"
	// ReasonLockedOut is an attempt refused because too many failed
	// before it.
	ReasonLockedOut = "locked_out"
	// ReasonInvalidState is an OIDC callback whose state is not this
	// browser's, or was used before.
	ReasonInvalidState = "invalid_state"
	// ReasonProviderError is an error the provider sent to the callback
	// (the person cancelled, or the provider refused them).
	ReasonProviderError = "provider_error"

	ReasonProviderUnavailable = "provider_unavailable"
	ReasonExchangeFailed      = "exchange_failed"
	ReasonInvalidToken        = "invalid_token"
	ReasonInvalidAudience     = "invalid_audience"
	ReasonTokenExpired        = "token_expired"
	ReasonInvalidNonce        = "invalid_nonce"
	ReasonMissingClaim        = "missing_claim"
	// ReasonInvalidRequest means the caller passed an empty state, nonce,
	// verifier or redirect URI: a bug on our side, not the person's.
	ReasonInvalidRequest = "invalid_request"
	// ReasonProviderRefused: asked again with the session's refresh token,
	// the provider refused the person (invalid_grant: disabled, deleted,
	// signed out at the provider, or the grant revoked).
	ReasonProviderRefused = "provider_refused"
)

// Reasons for a sign-in that fails because the gateway or the provider is
// set up wrong, not because the provider is down: trying again does not
// help, an administrator must fix the configuration.
const (
	// ReasonIssuerMismatch: the provider's metadata names another issuer
	// (often a trailing slash), or there is no provider at the issuer URL.
	ReasonIssuerMismatch = "issuer_mismatch"
	// ReasonUnknownClient: the provider does not know the client ID or
	// secret, or does not let this client use the code flow.
	ReasonUnknownClient = "unknown_client"
	// ReasonInvalidRedirectURI: the provider refused the redirect URI.
	ReasonInvalidRedirectURI = "invalid_redirect_uri"
	// ReasonInvalidScope: the provider refused a requested scope.
	ReasonInvalidScope = "invalid_scope"
)

// IsConfigurationError reports whether err is a sign-in failure that only
// an administrator can fix (a wrong issuer, client or redirect URI), as
// opposed to a provider that is down or a sign-in that went wrong.
func IsConfigurationError(err error) bool {
	return hasReason(err, ReasonIssuerMismatch, ReasonUnknownClient, ReasonInvalidRedirectURI, ReasonInvalidScope)
}

// ReasonOf returns the reason of a *LoginError in err's chain, or
// fallback when there is none.
func ReasonOf(err error, fallback string) string {
	var le *LoginError
	if errors.As(err, &le) {
		return le.Reason
	}
	return fallback
}

// hasReason reports whether err is a *LoginError with one of reasons.
func hasReason(err error, reasons ...string) bool {
	var le *LoginError
	if !errors.As(err, &le) {
		return false
	}
	for _, r := range reasons {
		if le.Reason == r {
			return true
		}
	}
	return false
}

// truncate shortens s to at most n bytes, on a character boundary, for
// what a provider sent that goes into a log.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
