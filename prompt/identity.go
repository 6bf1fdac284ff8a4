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
