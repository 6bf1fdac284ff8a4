package prompt

import (
	"bufio"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestIdentityTrailersAreStrippedDeclaredOrNot reads chunked requests as
// net/http's server does, with forged identity trailers in every spelling
// and the session cookie, declared in the Trailer header or not: once the
// body has been read, none is left, and the other trailers are.
func TestIdentityTrailersAreStrippedDeclaredOrNot(t *testing.T) {
	const trailers = "X-Trustgate-User: admin\r\n" +
		"x_trustgate.email: admin@example.com\r\n" +
		"X-TRUSTGATE-GROUPS: admins\r\n" +
		"X-Trustgate-Device-Trust: trusted\r\n" +
		"X-App-User: admin\r\n" +
		"Cookie: tg_session=forged; theme=dark; __Host-tg_flow=x\r\n" +
		"X-Checksum: abc\r\n"
	reserved := IdentityHeaders{User: "X-App-User"}.reserved()
	for name, declared := range map[string]string{
		"declared":   "Trailer: X-Trustgate-User, x_trustgate.email, X-Checksum\r\nTrailer: X-App-User, Cookie\r\n",
		"undeclared": "",
		"only other": "Trailer: X-Checksum\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			raw := "POST /app HTTP/1.1\r\nHost: gate.example\r\nTransfer-Encoding: chunked\r\n" + declared + "\r\n" +
				"5\r\nhello\r\n0\r\n" + trailers + "\r\n"
			r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			stripTrailers(r, reserved)
			for name := range r.Trailer {
				if foldsToAny(name, reserved) {
					t.Errorf("declared reserved trailer %q kept before the body was read", name)
				}
			}
			if got := strings.Join(r.Header["Trailer"], ","); strings.Contains(strings.ToLower(got), "trustgate") || strings.Contains(got, "X-App-User") {
				t.Errorf("Trailer header still declares an identity: %q", got)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil || string(body) != "hello" {
				t.Fatalf("body %q, %v", body, err)
			}
			for name, values := range r.Trailer {
				if foldsToAny(name, reserved) {
					t.Errorf("trailer %s: %q reached past the gate", name, values)
				}
			}
			if got := r.Trailer.Get("X-Checksum"); got != "abc" {
				t.Errorf("X-Checksum trailer: %q, want it kept", got)
			}
			if got := r.Trailer.Values("Cookie"); !slices.Equal(got, []string{"theme=dark"}) {
				t.Errorf("Cookie trailer: %q, want only theme=dark", got)
			}
		})
	}
}

// TestRequestWithoutBodyOrTrailersIsLeftAlone checks that a GET keeps its
// body and trailer fields as they were (the hot path pays nothing).
func TestRequestWithoutBodyOrTrailersIsLeftAlone(t *testing.T) {
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\nHost: x\r\n\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	body, reserved := r.Body, DefaultIdentityHeaders().reserved()
	stripTrailers(r, reserved)
	if r.Body != body || r.Trailer != nil {
		t.Fatalf("body %T, trailer %v: want both untouched", r.Body, r.Trailer)
	}
	if n := testing.AllocsPerRun(100, func() { stripTrailers(r, reserved) }); n != 0 {
		t.Errorf("%v allocations for a request without body", n)
	}
}
