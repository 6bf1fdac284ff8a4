package prompt

import (
	"net/http"
	"strings"
)

// IdentityHeaders names the request headers that carry the signed-in
// identity to the upstream application. An empty name sends nothing.
type IdentityHeaders struct {
	User   string
	Email  string
	Groups string
}

// DefaultIdentityHeaders returns the header names used when none are
// configured.
func DefaultIdentityHeaders() IdentityHeaders {
	return IdentityHeaders{
		User:   "X-Trustgate-User",
		Email:  "X-Trustgate-Email",
		Groups: "X-Trustgate-Groups",
	}
}

// names returns the configured header names, skipping empty ones.
func (h IdentityHeaders) names() []string {
	var names []string
	for _, n := range []string{h.User, h.Email, h.Groups} {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}

// foldHeaderName folds a header name the way the most lenient backend would
// read it: case-insensitive, with '_', '.' and '-' alike (CGI and PHP turn
// all three into HTTP_X_TRUSTGATE_USER).
func foldHeaderName(name string) string {
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if c == '_' || c == '.' {
			b[i] = '-'
		}
	}
	return string(b)
}

// Strip removes every header of hdr that a backend could read as one of the
// identity headers, or as one of the default names, whatever its case and
// whether it is written with '-', '_' or '.'. It runs on every request
// before the gateway sets its own values, so a client can never supply an
// identity.
func (h IdentityHeaders) Strip(hdr http.Header) {
	reserved := make(map[string]bool, 6)
	for _, n := range append(h.names(), DefaultIdentityHeaders().names()...) {
		reserved[foldHeaderName(n)] = true
	}
	for name := range hdr {
		if reserved[foldHeaderName(name)] {
			delete(hdr, name)
		}
	}
}

// Set strips hdr (see Strip) and sets the identity headers for id.
func (h IdentityHeaders) Set(hdr http.Header, id Identity) {
	h.Strip(hdr)
	if h.User != "" {
		hdr.Set(h.User, id.User)
	}
	if h.Email != "" && id.Email != "" {
		hdr.Set(h.Email, id.Email)
	}
	if h.Groups != "" && len(id.Groups) > 0 {
		hdr.Set(h.Groups, strings.Join(id.Groups, ","))
	}
}
