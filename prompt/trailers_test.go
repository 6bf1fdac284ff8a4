package prompt

import (
	"bufio"
	"io"
	"net/http"
	"net/http/httptest"
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

// TestIdentityTrailersAreStrippedOverHTTP2 sends declared trailers over
// HTTP/2, where net/http's server fills the declared fields of
// Request.Trailer when the body ends: the identity ones never get there.
func TestIdentityTrailersAreStrippedOverHTTP2(t *testing.T) {
	reserved := DefaultIdentityHeaders().reserved()
	seen := make(chan http.Header, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stripTrailers(r, reserved)
		_, _ = io.Copy(io.Discard, r.Body)
		seen <- r.Trailer.Clone()
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, srv.URL, pr)
	if err != nil {
		t.Fatal(err)
	}
	req.Trailer = http.Header{"X-Trustgate-User": nil, "X_trustgate_groups": nil, "Cookie": nil, "X-Checksum": nil}
	go func() {
		_, _ = io.WriteString(pw, "hello")
		req.Trailer.Set("X-Trustgate-User", "FORGED")
		req.Trailer["X_trustgate_groups"] = []string{"FORGED"}
		req.Trailer.Set("Cookie", "tg_session=FORGED; theme=dark")
		req.Trailer.Set("X-Checksum", "abc")
		pw.Close()
	}()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("spoke %s, want HTTP/2", resp.Proto)
	}
	got := <-seen
	for name, values := range got {
		if foldsToAny(name, reserved) || strings.Contains(strings.Join(values, ","), "FORGED") {
			t.Errorf("trailer %s: %q reached past the gate", name, values)
		}
	}
	if got.Get("X-Checksum") != "abc" || got.Get("Cookie") != "theme=dark" {
		t.Errorf("honest trailers lost: %v", got)
	}
}
