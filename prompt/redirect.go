package prompt

import (
	"net/url"
	"strings"
)

// SafeReturn returns raw if it is a path on this site that is safe to
// redirect to after login, and "/" otherwise. Only an absolute path is
// accepted: no scheme, no host, no scheme-relative "//host", no "/\host"
// (which browsers read as "//host"), no control characters or backslashes,
// and the same checks hold after each round of percent-decoding, so encoded
// variants such as "/%2F%2Fevil" or "/%5Cevil" are refused too. The
// gateway's own reserved paths are refused, so a login cannot loop.
func SafeReturn(raw string) string {
	if len(raw) > 2048 {
		return "/"
	}
	candidate := raw
	for range 4 {
		if !safePath(candidate) {
			return "/"
		}
		decoded, err := url.PathUnescape(candidate)
		if err != nil {
			return "/"
		}
		if decoded == candidate {
			return raw
		}
		candidate = decoded
	}
	// Still changing after several rounds of decoding: refuse.
	return "/"
}

func safePath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for _, c := range p {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	if strings.HasPrefix(u.Path, ReservedPrefix) {
		return false
	}
	return true
}
