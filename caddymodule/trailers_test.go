package caddymodule

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/gatetest"
)

// rawUpstream is an HTTP/1.1 upstream that records the bytes of each
// request exactly as they arrive, headers, chunks and trailers, and answers
// 200 "ok".
type rawUpstream struct {
	net.Listener
	requests chan []byte
}

func newRawUpstream(t *testing.T) *rawUpstream {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &rawUpstream{Listener: l, requests: make(chan []byte, 16)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go u.serve(conn)
		}
	}()
	return u
}

// serve reads requests off one connection with net/http's parser (which
// reads chunked bodies and trailers to their end) while keeping every byte
// it reads.
func (u *rawUpstream) serve(conn net.Conn) {
	defer conn.Close()
	var raw bytes.Buffer
	br := bufio.NewReader(io.TeeReader(conn, &raw))
	for {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		// What the tee read but the parser has not used belongs to the
		// next request.
		got := raw.Bytes()[:raw.Len()-br.Buffered()]
		u.requests <- bytes.Clone(got)
		rest := bytes.Clone(raw.Bytes()[len(got):])
		raw.Reset()
		raw.Write(rest)
		if _, err := io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"); err != nil {
			return
		}
	}
}

// TestForgedIdentityTrailersNeverReachUpstream sends a signed-in chunked
// request whose header and trailers forge the identity (every spelling,
// trailers declared in the Trailer header or not) and carry the session cookie, over a raw
// connection, through the real Caddy and its reverse_proxy, and reads the
// bytes the upstream received: the gateway's identity and nothing forged,
// no session cookie, and the honest trailer still there.
func TestForgedIdentityTrailersNeverReachUpstream(t *testing.T) {
	up := newRawUpstream(t)
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), up.Addr()))

	b := newBrowser(t)
	b.login("alice", gatetest.Users["alice"].Password, "/app")
	session := b.sessionCookie()
	if session == "" {
		t.Fatal("no session cookie after login")
	}

	forged := "X-Trustgate-User: FORGED-user\r\n" +
		"x_trustgate_user: FORGED-underscore\r\n" +
		"X.Trustgate.Email: FORGED@example.com\r\n" +
		"X-TRUSTGATE-GROUPS: FORGED-admins\r\n" +
		"X-Trustgate-Device-Trust: FORGED-trusted\r\n" +
		"X-Trustgate-Device-Id: FORGED-device\r\n" +
		"Cookie: tg_session=" + session + "; theme=dark\r\n"
	for name, declared := range map[string]string{
		"identity declared":       "Trailer: X-Trustgate-User, x_trustgate_user, X.Trustgate.Email, X-TRUSTGATE-GROUPS\r\nTrailer: X-Trustgate-Device-Trust, X-Trustgate-Device-Id, Cookie, X-Checksum\r\n",
		"only an honest declared": "Trailer: X-Checksum\r\n",
		"nothing declared":        "",
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(time.Minute))
			req := fmt.Sprintf("POST /app/upload HTTP/1.1\r\nHost: localhost:%d\r\nCookie: tg_session=%s\r\nContent-Type: text/plain\r\nX-Trustgate-User: FORGED-header\r\n"+
				"Transfer-Encoding: chunked\r\n%s\r\n", httpPort, session, declared) +
				"5\r\nhello\r\n6\r\n world\r\n0\r\n" + forged + "X-Checksum: honest\r\n\r\n"
			if _, err := io.WriteString(conn, req); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != "ok" {
				t.Fatalf("gateway answered %d %q, want the upstream's 200", resp.StatusCode, body)
			}
			var raw string
			select {
			case r := <-up.requests:
				raw = string(r)
			case <-time.After(time.Minute):
				t.Fatal("the upstream received nothing")
			}
			if !strings.Contains(raw, "\r\nX-Trustgate-User: alice\r\n") {
				t.Errorf("the upstream did not get the gateway's identity:\n%s", raw)
			}
			if strings.Contains(raw, "FORGED") {
				t.Errorf("a forged identity reached the upstream:\n%s", raw)
			}
			if strings.Contains(raw, session) || strings.Contains(raw, "tg_session") {
				t.Errorf("the session cookie reached the upstream:\n%s", raw)
			}
			if !strings.Contains(raw, "hello world") && !strings.Contains(raw, "hello\r\n6\r\n world") {
				t.Errorf("the body did not reach the upstream:\n%s", raw)
			}
			// Caddy forwards declared trailers: the honest one must
			// still arrive, which shows the trailers were forwarded at
			// all (and so that this test could see a forged one).
			if declared != "" && !strings.Contains(raw, "\r\nX-Checksum: honest\r\n") {
				t.Errorf("the honest trailer did not reach the upstream:\n%s", raw)
			}
			if strings.Contains(declared, "Cookie") && !strings.Contains(raw, "theme=dark") {
				t.Errorf("the Cookie trailer's other cookies did not reach the upstream:\n%s", raw)
			}
		})
	}
}
