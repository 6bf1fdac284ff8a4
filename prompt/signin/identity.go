package signin

// Identity is who a person proved to be at sign-in, as the login source
// vouches for it: the gate adds what its session keeps beside it (the
// reference to kept provider tokens, the next revalidation).
type Identity struct {
	// User is the stable user name handed to the upstream application.
	User string
	// Email is the user's email address, when known.
	Email string
	// Groups are the user's groups, used by policy and handed upstream.
	Groups []string
}
