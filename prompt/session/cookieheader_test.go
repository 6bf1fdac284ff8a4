package session

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRequestCookieReadsAsNetHTTPDoes(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   string
		found  bool
	}{
		{[]string{"tg_session=abc"}, "abc", true},
		{[]string{"theme=dark; tg_session=abc; x=1"}, "abc", true},
		{[]string{"theme=dark", "tg_session=abc"}, "abc", true},
		{[]string{` tg_session = "abc" `}, "", false}, // net/http keeps the space before the quote: invalid value
		{[]string{`tg_session="abc"`}, "abc", true},
		{[]string{"tg_session=a b"}, "a b", true},
		{[]string{"tg_session=a\\b; tg_session=second"}, "second", true},
		{[]string{"xtg_session=abc; tg_sessionx=abc"}, "", false},
		{[]string{"tg_session"}, "", true},
		{[]string{"tg_sess ion=abc"}, "", false},
		{nil, "", false},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://app.example/", nil)
		r.Header["Cookie"] = tc.header
		got, found := requestCookie(r, CookieBase)
		if got != tc.want || found != tc.found {
			t.Errorf("%q: got %q, %v; want %q, %v", tc.header, got, found, tc.want, tc.found)
		}
		c, err := r.Cookie(CookieBase)
		if (err == nil) != found || (err == nil && c.Value != got) {
			t.Errorf("%q: net/http reads %v, %v; requestCookie %q, %v", tc.header, c, err, got, found)
		}
	}
}

func TestStripGatewayCookiesKeepsEveryOtherCookie(t *testing.T) {
	for _, tc := range []struct {
		header []string
		want   []string // nil: no Cookie header left
	}{
		{[]string{"tg_session=abc"}, nil},
		{[]string{"tg_session=abc; theme=dark"}, []string{"theme=dark"}},
		{[]string{"theme=dark; tg_session=abc"}, []string{"theme=dark"}},
		{[]string{"a=1; tg_session=abc; b=2"}, []string{"a=1; b=2"}},
		{[]string{"a=1;b=2; __Host-tg_flow=x ;c=3; tg_session=abc;d=4"}, []string{"a=1;b=2; c=3; d=4"}},
		{[]string{"tg_session=abc", "theme=dark", "tg_flow=x"}, []string{"theme=dark"}},
		{[]string{"tg_session"}, nil},
		{[]string{"theme=dark; x"}, []string{"theme=dark; x"}},
		{[]string{"theme=dark"}, []string{"theme=dark"}},
	} {
		r, _ := http.NewRequest(http.MethodGet, "http://app.example/", nil)
		r.Header["Cookie"] = slices.Clone(tc.header)
		sent := r.Header["Cookie"]
		StripCookies(r)
		got, ok := r.Header["Cookie"]
		if !ok {
			got = nil
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q: Cookie header became %q, want %q", tc.header, got, tc.want)
		}
		if !slices.Equal(sent, tc.header) {
			t.Errorf("%q: the caller's slice was changed to %q", tc.header, sent)
		}
	}
}

func TestStripGatewayCookiesAllocatesNothingForABrowsersHeader(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://app.example/", nil)
	header := []string{"tg_session=abcdefgh; theme=dark; lang=en"}
	allocs := testing.AllocsPerRun(100, func() {
		r.Header["Cookie"] = header
		if _, ok := requestCookie(r, CookieBase); !ok {
			t.Fatal("no session cookie found")
		}
		StripCookies(r)
	})
	// One: the kept header's own one-line slice.
	if allocs > 1 {
		t.Errorf("reading and stripping the cookie header allocated %.0f times, want at most 1", allocs)
	}
	if got := r.Header["Cookie"]; !slices.Equal(got, []string{"theme=dark; lang=en"}) {
		t.Errorf("Cookie header became %q", got)
	}
}

// FuzzCookieHeader holds the gateway's own Cookie-header reading to
// net/http's: the session cookie found is the one r.Cookie finds, and
// stripping removes exactly the gateway's cookies, every other cookie
// reaching the application as net/http would read it.
func FuzzCookieHeader(f *testing.F) {
	for _, seed := range []string{
		"tg_session=abc; theme=dark",
		"a=1; tg_session=abc; b=2; __Host-tg_flow=x",
		` tg_session = "abc" ;;; tg_session=def`,
		"tg_session\x00=x; ok=1",
		"tg_flow; tg_session=\"a\\b\"; __Host-tg_session=q",
		"",
	} {
		f.Add(seed, "second=line")
	}
	f.Fuzz(func(t *testing.T, line, second string) {
		header := []string{line, second}
		if strings.Count(line+second, ";")+2 > 3000 {
			return // net/http reads no cookie at all past its limit
		}
		r, _ := http.NewRequest(http.MethodGet, "http://app.example/", nil)
		for _, name := range []string{CookieBase, hostPrefix + CookieBase, FlowCookieBase} {
			r.Header["Cookie"] = header
			got, found := requestCookie(r, name)
			c, err := r.Cookie(name)
			if (err == nil) != found || (err == nil && c.Value != got) {
				t.Fatalf("%q: net/http reads %v (%v), requestCookie %q, %v", header, c, err, got, found)
			}
		}
		r.Header["Cookie"] = slices.Clone(header)
		var want []string
		for _, c := range r.Cookies() {
			if !isGatewayCookie(c.Name) {
				want = append(want, c.Name+"="+c.Value)
			}
		}
		StripCookies(r)
		var got []string
		for _, c := range r.Cookies() {
			got = append(got, c.Name+"="+c.Value)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%q: after stripping net/http reads %q, want %q (header now %q)", header, got, want, r.Header["Cookie"])
		}
		for _, l := range r.Header["Cookie"] {
			if _, left := StripCookieLine(l); left {
				t.Fatalf("%q: a gateway cookie is left in %q", header, l)
			}
		}
	})
}
