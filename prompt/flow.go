package prompt

import (
	"net/http"
	"time"
)

// flowLifetime is how long a person has to finish signing in.
const flowLifetime = 10 * time.Minute

// flow is the content of the short-lived login-flow cookie: what the
// gateway must remember between showing a login form (or sending the browser
// to the provider) and the answer.
type flow struct {
	// Return is the already-checked path to go back to after login.
	Return string `json:"r"`
	// CSRF is the token the login form must carry.
	CSRF string `json:"c,omitempty"`
	// State, Nonce and Verifier belong to an OIDC authorization request.
	State    string `json:"s,omitempty"`
	Nonce    string `json:"n,omitempty"`
	Verifier string `json:"v,omitempty"`
	// Pending is a signed-in person's device check in progress.
	Pending *pendingLogin `json:"p,omitempty"`
	// ExpiresAt is in Unix seconds.
	ExpiresAt int64 `json:"exp"`
	// Realm is the ID of the realm the flow began in; a gate of another
	// realm ignores the flow, so that a person's pending device check
	// cannot be carried to a site that does not know them.
	Realm string `json:"rl"`
}

func (g *Gate) newFlow(returnTo string) *flow {
	return &flow{
		Return:    SafeReturn(returnTo),
		ExpiresAt: g.cfg.Now().Add(flowLifetime).Unix(),
		Realm:     g.realm.id,
	}
}

func (g *Gate) setFlow(w http.ResponseWriter, r *http.Request, f *flow) error {
	name := cookieName(r, flowCookie)
	value, err := g.cfg.Cookies.Encode(name, f)
	if err != nil {
		return err
	}
	http.SetCookie(w, newCookie(r, flowCookie, value, int(flowLifetime/time.Second)))
	return nil
}

// readFlow returns the request's login flow, or nil when there is none, it
// is forged or expired, or it began in another realm.
func (g *Gate) readFlow(r *http.Request) *flow {
	var f flow
	if !g.readCookie(r, flowCookie, &f) {
		return nil
	}
	if !g.cfg.Now().Before(time.Unix(f.ExpiresAt, 0)) || f.Realm != g.realm.id {
		return nil
	}
	f.Return = SafeReturn(f.Return)
	return &f
}

func (g *Gate) clearFlow(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, newCookie(r, flowCookie, "", -1))
}
