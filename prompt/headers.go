package prompt

import (
	"net/http"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/web"
)

// IdentityHeaders names the request headers that carry the signed-in
// identity to the upstream application. An empty name sends nothing.
type IdentityHeaders struct {
	User   string
	Email  string
	Groups string
	// Trust carries the access device's trust status (trusted, not
	// trusted, unknown) and DeviceID the verifying device's ID.
	Trust    string
	DeviceID string
}

// DefaultIdentityHeaders returns the header names used when none are
// configured.
func DefaultIdentityHeaders() IdentityHeaders {
	return IdentityHeaders{
		User:     "X-Trustgate-User",
		Email:    "X-Trustgate-Email",
		Groups:   "X-Trustgate-Groups",
		Trust:    "X-Trustgate-Device-Trust",
		DeviceID: "X-Trustgate-Device-Id",
	}
}

// names returns the configured header names, skipping empty ones.
func (h IdentityHeaders) names() []string {
	var names []string
	for _, n := range []string{h.User, h.Email, h.Groups, h.Trust, h.DeviceID} {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// Strip removes every header of hdr that a backend could read as one of the
// identity headers, or as one of the default names, whatever its case and
// whether it is written with '-', '_' or '.'. It runs on every request
// before the gateway sets its own values, so a client can never supply an
// identity.
func (h IdentityHeaders) Strip(hdr http.Header) {
	stripHeaders(hdr, h.reserved())
}

// reserved returns the names Strip removes: the configured and the default
// identity headers.
func (h IdentityHeaders) reserved() []string {
	return append(h.names(), DefaultIdentityHeaders().names()...)
}

// stripHeaders removes every header of hdr that folds to one of reserved.
func stripHeaders(hdr http.Header, reserved []string) {
	for name := range hdr {
		for _, r := range reserved {
			if sameFoldedName(name, r) {
				delete(hdr, name)
				break
			}
		}
	}
}

// sameFoldedName reports whether a and b name the same header for the most
// lenient backend (web.SameHeaderName).
func sameFoldedName(a, b string) bool { return web.SameHeaderName(a, b) }

// Set strips hdr (see Strip) and sets the identity headers for id.
func (h IdentityHeaders) Set(hdr http.Header, id session.Identity) {
	h.Strip(hdr)
	h.canonical().setValues(hdr, &session.Session{Identity: id})
}

// canonical returns h with each name in canonical header form, so that the
// values can be set in a header map without canonicalising per request.
func (h IdentityHeaders) canonical() IdentityHeaders {
	c := http.CanonicalHeaderKey
	return IdentityHeaders{User: c(h.User), Email: c(h.Email), Groups: c(h.Groups), Trust: c(h.Trust), DeviceID: c(h.DeviceID)}
}

// setValues sets the identity headers for s on an already stripped hdr.
// The names must be canonical (see canonical).
func (h IdentityHeaders) setValues(hdr http.Header, s *session.Session) {
	id := s.Identity
	// The user header is set even when empty (it never is for a
	// session); the others only with a value.
	pairs := [...]struct {
		name, value string
		always      bool
	}{
		{h.Trust, s.Trust, false},
		{h.DeviceID, s.DeviceID, false},
		{h.User, id.User, true},
		{h.Email, id.Email, false},
		{h.Groups, s.JoinedGroups(), false},
	}
	// One array holds every value, each header getting a slice of it
	// with no room to grow, rather than one allocation per header.
	var values []string
	for _, p := range pairs {
		if p.name == "" || (p.value == "" && !p.always) {
			continue
		}
		if values == nil {
			values = make([]string, 0, len(pairs))
		}
		values = append(values, p.value)
		hdr[p.name] = values[len(values)-1 : len(values) : len(values)]
	}
}
