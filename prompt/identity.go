package prompt

// Identity is who a person proved to be at primary login.
type Identity struct {
	// User is the stable user name handed to the upstream application.
	User string `json:"u"`
	// Email is the user's email address, when known.
	Email string `json:"e,omitempty"`
	// Groups are the user's groups, used by policy and handed upstream.
	Groups []string `json:"g,omitempty"`

	// ProviderRef names the provider tokens an OIDC sign-in keeps in the
	// store (never in the cookie); empty when none were kept.
	ProviderRef string `json:"pr,omitempty"`
	// RecheckAt (Unix seconds), when set, is when the next request asks
	// the OIDC provider again whether the person may still sign in
	// (revalidate).
	RecheckAt int64 `json:"rc,omitempty"`
}

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
