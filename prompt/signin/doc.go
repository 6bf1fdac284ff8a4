// Package signin is the primary sign-in of the gate: who a person is,
// before any device check. It holds the two login sources and their
// rules, without HTTP: the users file (password hashes, a dummy hash so
// that an unknown name costs what a wrong password costs, and the
// lockout, which counts only failures and runs one attempt per user and
// address at a time), and the OpenID Connect client (discovery, the
// authorization request with PKCE, state and nonce, the code exchange and
// ID-token verification, refresh, end-session) with what the gate keeps
// of an OIDC sign-in beyond its cookie: the provider's tokens, sealed in
// the store, used to revalidate a session with the provider and to end
// the provider's session at sign-out. Package prompt parses the forms and
// callbacks, renders the pages and starts the session; the store is
// reached through the small interfaces declared here.
package signin
