package session

import (
	"net/http"
	"time"
)

// FlowLifetime is how long a person has to finish signing in.
const FlowLifetime = 10 * time.Minute

// Flow is the content of the short-lived login-flow cookie: what the
// gateway must remember between showing a login form (or sending the
// browser to the provider) and the answer. P is the signed-in person's
// device check in progress, which the gate defines.
type Flow[P any] struct {
	// Return is the already-checked path to go back to after login.
	Return string `json:"r"`
	// CSRF is the token the login form must carry.
	CSRF string `json:"c,omitempty"`
	// State, Nonce and Verifier belong to an OIDC authorization request.
	State    string `json:"s,omitempty"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	// Pending is a signed-in person's device check in progress.
	Pending *P `json:"p,omitempty"`
	// ExpiresAt is in Unix seconds.
	ExpiresAt int64 `json:"exp"`
	// Realm is the ID of the realm the flow began in; a gate of another
	// realm ignores the flow, so that a person's pending device check
	// cannot be carried to a site that does not know them.
	Realm string `json:"rl"`
}

// Flows reads and writes a Keeper's login-flow cookie, whose pending
// device check is a P. It is a small value: copy it freely.
type Flows[P any] struct {
	k *Keeper
}

// FlowsOf returns the login flows of k.
func FlowsOf[P any](k *Keeper) Flows[P] {
	return Flows[P]{k: k}
}

// New returns a flow that goes back to returnTo, which the caller has
// checked, and expires after FlowLifetime.
func (fs Flows[P]) New(returnTo string) *Flow[P] {
	return &Flow[P]{
		Return:    returnTo,
		ExpiresAt: fs.k.now().Add(FlowLifetime).Unix(),
		Realm:     fs.k.realm.id,
	}
}

// Set sets the login-flow cookie to f.
func (fs Flows[P]) Set(w http.ResponseWriter, r *http.Request, f *Flow[P]) error {
	name := cookieName(r, FlowCookieBase)
	value, err := fs.k.codec.Encode(name, f)
	if err != nil {
		return err
	}
	http.SetCookie(w, newCookie(r, FlowCookieBase, value, int(FlowLifetime/time.Second)))
	return nil
}

// Read returns the request's login flow, or nil when there is none, it is
// forged or expired, or it began in another realm. Its Return is as the
// cookie holds it: the caller checks it again.
func (fs Flows[P]) Read(r *http.Request) *Flow[P] {
	var f Flow[P]
	if !fs.k.readCookie(r, FlowCookieBase, &f) {
		return nil
	}
	if !fs.k.now().Before(time.Unix(f.ExpiresAt, 0)) || f.Realm != fs.k.realm.id {
		return nil
	}
	return &f
}

// Clear clears the login-flow cookie.
func (fs Flows[P]) Clear(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, newCookie(r, FlowCookieBase, "", -1))
}
