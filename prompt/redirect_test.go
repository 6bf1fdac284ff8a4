package prompt

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeReturnRefusesOffSiteTargets(t *testing.T) {
	hostile := []string{
		"",
		"//evil.example",
		"//evil.example/path",
		"https://evil.example",
		"HTTPS://evil.example",
		"http:evil.example",
		"https:/\\evil.example",
		"/\\evil.example",
		"\\\\evil.example",
		"\\/evil.example",
		"/%2F%2Fevil.example",
		"/%2f%2fevil.example",
		"/%5Cevil.example",
		"/%5cevil.example",
		"%2F%2Fevil.example",
		"/%252F%252Fevil.example",
		"/%25252F%25252Fevil.example",
		"javascript:alert(1)",
		"data:text/html,hi",
		"/\t/evil.example",
		"/\n/evil.example",
		"/%09/evil.example",
		"/%0D%0ALocation:%20https://evil.example",
		"///evil.example",
		"evil.example",
		"./evil",
		"/.trustgate/login?return=/x",
		"/.trustgate/logout",
		"/%2Etrustgate/login",
		"/%",
	}
	for _, target := range hostile {
		if got := SafeReturn(target); got != "/" {
			t.Errorf("SafeReturn(%q) = %q, want /", target, got)
		}
	}
}

func TestSafeReturnKeepsSameSitePaths(t *testing.T) {
	safe := []string{
		"/",
		"/reports",
		"/reports?year=2026&q=a%20b",
		"/a/b/c#section",
		"/caf%C3%A9",
		"/search?next=https://example.com", // a URL in the query is data, not a target
		"/trustgate/page",
	}
	for _, target := range safe {
		if got := SafeReturn(target); got != target {
			t.Errorf("SafeReturn(%q) = %q, want it unchanged", target, got)
		}
	}
}

// FuzzSafeReturn checks that whatever comes in, SafeReturn gives either "/"
// or the input unchanged, and never a target a browser would take off site.
func FuzzSafeReturn(f *testing.F) {
	for _, seed := range []string{"/", "/a?b=c", "//evil", "/%2F%2Fevil", "/\\evil", "https://evil", "/%252F%252Fevil", "/.trustgate/x"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := SafeReturn(raw)
		if got != "/" && got != raw {
			t.Fatalf("SafeReturn(%q) = %q: neither / nor the input", raw, got)
		}
		if got == "/" {
			return
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\r\n\t") {
			t.Fatalf("SafeReturn(%q) = %q is not a plain same-site path", raw, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Host != "" || u.Scheme != "" {
			t.Fatalf("SafeReturn(%q) = %q parses with host %q scheme %q", raw, got, u.Host, u.Scheme)
		}
		// Decoded once more, as a lenient proxy might, it is still safe.
		if dec, err := url.PathUnescape(got); err == nil && (strings.HasPrefix(dec, "//") || strings.Contains(dec, "\\")) {
			t.Fatalf("SafeReturn(%q) = %q decodes to %q", raw, got, dec)
		}
	})
}
