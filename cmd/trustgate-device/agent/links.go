package agent

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/trustgate/trustgate/prompt/protocol"
)

const (
	// maxLinkSize bounds a deep link; the gateway's are a few hundred
	// bytes.
	maxLinkSize = 4096
	// maxValueSize bounds one value in a link (code, tx, challenge).
	maxValueSize = 512
)

// ErrBadLink is wrapped by every refusal of a link.
var ErrBadLink = errors.New("invalid link")

// ParseActivationLink returns the gateway origin and activation code of an
// activation link, in any of its forms:
//
//	trustgate://activate?origin=<origin>&code=<code>
//	<origin>/.trustgate/app/activate?code=<code>
//	intent://<host>/.trustgate/app/activate?code=<code>#Intent;scheme=https;...;end
func ParseActivationLink(link string) (origin, code string, err error) {
	origin, q, err := parseLink(link, "activate", protocol.ActivateLinkPath)
	if err != nil {
		return "", "", err
	}
	if code, err = param(q, protocol.ParamCode, false); err != nil {
		return "", "", err
	}
	return origin, code, nil
}

// ParseVerifyLink returns the gateway origin, transaction ID and challenge
// of a verification deep link, in any of its forms:
//
//	trustgate://verify?origin=<origin>&tx=<id>&challenge=<c>
//	<origin>/.trustgate/app/verify?tx=<id>&challenge=<c>
//	intent://<host>/.trustgate/app/verify?tx=<id>&challenge=<c>#Intent;scheme=https;...;end
func ParseVerifyLink(link string) (origin, tx, challenge string, err error) {
	origin, q, err := parseLink(link, "verify", protocol.VerifyLinkPath)
	if err != nil {
		return "", "", "", err
	}
	if tx, err = param(q, protocol.ParamTransaction, true); err != nil {
		return "", "", "", err
	}
	if challenge, err = param(q, protocol.ParamChallenge, false); err != nil {
		return "", "", "", err
	}
	return origin, tx, challenge, nil
}

// parseLink parses a link of the custom-scheme form trustgate://<action>,
// the HTTPS form <origin><httpsPath> or the Android intent: form of the
// latter, and returns the gateway origin and the link's query (without
// origin).
func parseLink(link, action, httpsPath string) (string, url.Values, error) {
	if len(link) > maxLinkSize {
		return "", nil, fmt.Errorf("%w: longer than %d bytes", ErrBadLink, maxLinkSize)
	}
	link = strings.TrimSpace(link)
	u, err := url.Parse(link)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	if strings.EqualFold(u.Scheme, "intent") {
		if u, err = intentTarget(u); err != nil {
			return "", nil, err
		}
	}
	if u.User != nil {
		return "", nil, fmt.Errorf("%w: it carries user information", ErrBadLink)
	}
	if u.Fragment != "" || strings.Contains(link, "#") && !strings.HasPrefix(strings.ToLower(link), "intent:") {
		return "", nil, fmt.Errorf("%w: unexpected fragment", ErrBadLink)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("%w: query: %v", ErrBadLink, err)
	}
	switch strings.ToLower(u.Scheme) {
	case protocol.Scheme:
		if !strings.EqualFold(u.Host, action) || (u.Path != "" && u.Path != "/") || u.Opaque != "" {
			return "", nil, fmt.Errorf("%w: want %s://%s?<query>", ErrBadLink, protocol.Scheme, action)
		}
		raw, err := param(q, protocol.ParamOrigin, false)
		if err != nil {
			return "", nil, err
		}
		origin, err := parseOrigin(raw)
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrBadLink, err)
		}
		q.Del(protocol.ParamOrigin)
		return origin, q, nil
	case "https", "http":
		if u.Path != httpsPath || u.Opaque != "" || u.RawPath != "" {
			return "", nil, fmt.Errorf("%w: path %q, want %s", ErrBadLink, u.Path, httpsPath)
		}
		if q.Has(protocol.ParamOrigin) {
			return "", nil, fmt.Errorf("%w: an HTTPS link names no other origin than its own", ErrBadLink)
		}
		origin, err := parseOrigin(originOf(u))
		if err != nil {
			return "", nil, fmt.Errorf("%w: %v", ErrBadLink, err)
		}
		return origin, q, nil
	default:
		return "", nil, fmt.Errorf("%w: scheme %q, want %s, https or intent", ErrBadLink, u.Scheme, protocol.Scheme)
	}
}

// intentTarget returns the URL an Android intent: link stands for:
// intent://host/path?query#Intent;scheme=https;...;end names
// https://host/path?query. Only http(s) targets are accepted.
func intentTarget(u *url.URL) (*url.URL, error) {
	frag := u.Fragment
	if !strings.HasPrefix(frag, "Intent;") || !strings.HasSuffix(frag, ";end") {
		return nil, fmt.Errorf("%w: an intent: link ends in #Intent;...;end", ErrBadLink)
	}
	scheme := ""
	for _, part := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(frag, "Intent;"), ";end"), ";") {
		if v, ok := strings.CutPrefix(part, "scheme="); ok {
			if scheme != "" {
				return nil, fmt.Errorf("%w: intent: link names its scheme twice", ErrBadLink)
			}
			scheme = v
		}
	}
	if scheme != "https" && scheme != "http" {
		return nil, fmt.Errorf("%w: intent: link scheme %q, want https", ErrBadLink, scheme)
	}
	if u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("%w: want intent://host/path", ErrBadLink)
	}
	target := *u
	target.Scheme, target.Fragment, target.RawFragment = scheme, "", ""
	return &target, nil
}

// originOf returns scheme://host of u, lower-cased.
func originOf(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host)
}

// parseOrigin checks that s is a bare http(s) origin, scheme://host[:port]
// with nothing else, and returns it lower-cased.
func parseOrigin(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty origin")
	}
	if len(s) > maxValueSize {
		return "", fmt.Errorf("origin longer than %d bytes", maxValueSize)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("origin %q: %v", s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", fmt.Errorf("origin %q: scheme %q, want https or http", s, u.Scheme)
	}
	if u.User != nil || u.Path != "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" || strings.ContainsAny(s, "?#") {
		return "", fmt.Errorf("origin %q: want scheme://host[:port] with no user, path, query or fragment", s)
	}
	host := u.Hostname()
	if host == "" || strings.ContainsAny(host, " %") {
		return "", fmt.Errorf("origin %q: invalid host", s)
	}
	if port := u.Port(); port != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
			return "", fmt.Errorf("origin %q: invalid port", s)
		}
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}

// param returns the single, non-empty value of name in q. A pathSegment
// value must be URL-safe (it goes into a request path).
func param(q url.Values, name string, pathSegment bool) (string, error) {
	vs, ok := q[name]
	switch {
	case !ok || len(vs) == 0:
		return "", fmt.Errorf("%w: missing %s", ErrBadLink, name)
	case len(vs) > 1:
		return "", fmt.Errorf("%w: %s given %d times", ErrBadLink, name, len(vs))
	}
	if err := checkToken(name, vs[0], pathSegment); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadLink, err)
	}
	return vs[0], nil
}

// checkToken checks a value from a link or from the gateway: not empty,
// not overlong, printable ASCII; for a path segment only unreserved URL
// characters and not a dot segment.
func checkToken(name, v string, pathSegment bool) error {
	switch {
	case v == "":
		return fmt.Errorf("empty %s", name)
	case len(v) > maxValueSize:
		return fmt.Errorf("%s longer than %d bytes", name, maxValueSize)
	case pathSegment && (v == "." || v == ".."):
		return fmt.Errorf("invalid %s %q", name, v)
	}
	for _, r := range v {
		ok := r > ' ' && r < 0x7f
		if pathSegment {
			ok = r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)
		}
		if !ok {
			return fmt.Errorf("%s contains %q", name, r)
		}
	}
	return nil
}
