package agent

import (
	"errors"
	"net/url"
	"testing"
)

// FuzzParseLinks feeds arbitrary text to the deep-link parsers. A link is
// refused with ErrBadLink, or it yields an http(s) origin with a host and
// nothing else (no path, query, fragment or user info) and non-empty values.
func FuzzParseLinks(f *testing.F) {
	for _, s := range []string{
		"trustgate://verify?origin=https%3A%2F%2Fgate.example.com&tx=abc&challenge=def",
		"https://gate.example.com/.trustgate/app/verify?tx=abc&challenge=def",
		"intent://gate.example.com/.trustgate/app/verify?tx=abc&challenge=def#Intent;scheme=https;package=x;end",
		"trustgate://activate?origin=https%3A%2F%2Fgate.example.com&code=ABCD",
		"https://gate.example.com/.trustgate/app/activate?code=ABCD",
		"trustgate://verify?origin=javascript:alert(1)&tx=a&challenge=b",
		"https://user@gate.example.com/.trustgate/app/verify?tx=a&challenge=b",
		"", "trustgate://", "intent://#Intent;end",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, link string) {
		checkOrigin := func(origin string) {
			u, err := url.Parse(origin)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
				(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
				t.Fatalf("link %q gave origin %q", link, origin)
			}
		}
		if origin, tx, challenge, err := ParseVerifyLink(link); err != nil {
			if !errors.Is(err, ErrBadLink) {
				t.Fatalf("ParseVerifyLink(%q) error %v does not wrap ErrBadLink", link, err)
			}
		} else {
			checkOrigin(origin)
			if tx == "" || challenge == "" {
				t.Fatalf("ParseVerifyLink(%q) gave tx %q challenge %q", link, tx, challenge)
			}
		}
		if origin, code, err := ParseActivationLink(link); err != nil {
			if !errors.Is(err, ErrBadLink) {
				t.Fatalf("ParseActivationLink(%q) error %v does not wrap ErrBadLink", link, err)
			}
		} else {
			checkOrigin(origin)
			if code == "" {
				t.Fatalf("ParseActivationLink(%q) gave an empty code", link)
			}
		}
	})
}
