package signin

import (
	"fmt"
	"strings"
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
