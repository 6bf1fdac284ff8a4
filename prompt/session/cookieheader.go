package session

import (
	"net/http"
	"strings"
)

// This file reads the request's Cookie header without net/http's cookie
// parser, which allocates every cookie of the header on each call: the hot
// path needs one value out of it and the header back without the gateway's
// own cookies, on every request.

// hostPrefix is the prefix of the gateway's cookie names on HTTPS.
const hostPrefix = "__Host-"

// requestCookie returns the value of the first valid cookie called name in
// r's Cookie headers, as r.Cookie(name) would (surrounding double quotes
// removed; a value with a byte no cookie value may hold is skipped), without
// allocating.
func requestCookie(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			n, v, ok := splitCookiePair(part)
			if !ok || n != name {
				continue
			}
			if v, ok = parseCookieValue(v); ok {
				return v, true
			}
		}
	}
	return "", false
}

// StripCookies removes the gateway's cookies (the session and the
// login flow's, under either name) from the request, so the protected
// application never sees (or leaks) the session. Every other part of the
// header is kept as the browser sent it. When the gateway's cookies lead or
// end the header, as browsers send them, the header that is kept is a part
// of the one sent, and nothing is allocated.
func StripCookies(r *http.Request) {
	lines := r.Header["Cookie"]
	// kept is made at the first line that held a gateway cookie: a slice
	// of its own, since the old one may be shared with the caller.
	var kept []string
	for i, line := range lines {
		stripped, removed := StripCookieLine(line)
		if removed && kept == nil {
			kept = make([]string, 0, len(lines))
			for _, earlier := range lines[:i] {
				if earlier, _ = StripCookieLine(earlier); earlier != "" {
					kept = append(kept, earlier)
				}
			}
		}
		if kept != nil && stripped != "" {
			kept = append(kept, stripped)
		}
	}
	switch {
	case kept == nil:
		// No gateway cookie: the header stays as it was.
	case len(kept) == 0:
		r.Header.Del("Cookie")
	default:
		r.Header["Cookie"] = kept
	}
}

// StripCookieLine returns line, one Cookie header (or trailer) line,
// without the gateway's cookies, the other parts joined by "; ", and
// reports whether it held any. It returns a
// substring of line when the parts kept are next to each other in it.
func StripCookieLine(line string) (kept string, removed bool) {
	// first and last delimit the run of kept parts seen so far, while
	// they are contiguous; once a gateway cookie splits them, the rest is
	// built in b.
	var (
		b           strings.Builder
		first, last = -1, -1
		split       bool
		pos         int
	)
	for pos <= len(line) {
		end := strings.IndexByte(line[pos:], ';')
		if end < 0 {
			end = len(line)
		} else {
			end += pos
		}
		part := line[pos:end]
		start := pos
		pos = end + 1
		if n, _, ok := splitCookiePair(part); ok && isGatewayCookie(n) {
			removed = true
			if first >= 0 {
				split = true
			}
			continue
		}
		if trimCookieSpace(part) == "" {
			continue
		}
		if first < 0 {
			first, last = start, end
			continue
		}
		if !split {
			last = end
			continue
		}
		if b.Len() == 0 {
			b.WriteString(trimCookieSpace(line[first:last]))
		}
		b.WriteString("; ")
		b.WriteString(trimCookieSpace(part))
	}
	if b.Len() > 0 {
		return b.String(), removed
	}
	if first < 0 {
		return "", removed
	}
	return trimCookieSpace(line[first:last]), removed
}

// isGatewayCookie reports whether a cookie called name is one of the
// gateway's own, on HTTP or HTTPS.
func isGatewayCookie(name string) bool {
	name = strings.TrimPrefix(name, hostPrefix)
	return name == CookieBase || name == FlowCookieBase
}

// splitCookiePair splits one part of a Cookie header into its name and raw
// value, as net/http does: the part and the name are trimmed of spaces, a
// part without '=' is a cookie with an empty value, and a part whose name is
// not a token is no cookie.
func splitCookiePair(part string) (name, value string, ok bool) {
	part = trimCookieSpace(part)
	if part == "" {
		return "", "", false
	}
	name, value, _ = strings.Cut(part, "=")
	name = trimCookieSpace(name)
	if name == "" || strings.IndexFunc(name, notTokenRune) >= 0 {
		return "", "", false
	}
	return name, value, true
}

// trimCookieSpace trims the spaces net/http trims around cookies.
func trimCookieSpace(s string) string {
	return strings.Trim(s, " \t\r\n")
}

// parseCookieValue returns the value of a raw cookie value as net/http reads it:
// one pair of surrounding double quotes removed; it reports false when a
// byte is not allowed in a cookie value.
func parseCookieValue(raw string) (string, bool) {
	if len(raw) > 1 && raw[0] == '"' && raw[len(raw)-1] == '"' {
		raw = raw[1 : len(raw)-1]
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '\\' {
			return "", false
		}
	}
	return raw, true
}

// notTokenRune reports whether r may not appear in an HTTP token (RFC 9110
// section 5.6.2), and so not in a cookie name.
func notTokenRune(r rune) bool {
	if r >= 0x7f || r <= ' ' {
		return true
	}
	return strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
}
