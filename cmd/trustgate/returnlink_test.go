package main

import (
	"bufio"
	"context"
	"encoding/json"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// An instance is killed after it committed the login of an approved check
// but before the browser saw the answer to its return link: after the
// restart, the same browser opening the same link gets its session, and
// the login is recorded once. On every storage backend.
func TestReturnLinkReopenedAfterCrashGivesTheSession(t *testing.T) {
	for _, b := range storageBackends() {
		t.Run(b.name, func(t *testing.T) { returnLinkAfterCrash(t, b) })
	}
}

func returnLinkAfterCrash(t *testing.T, backend storageBackend) {
	bg, gw := newBlockGateway(t, backend, 1)
	admin := bg.admin

	dev := activatedAgent(t, admin, gw.url, "user00")
	c := newClient(t)
	c.ua = phoneUA
	if status := c.login(gw.url, "user00", "pw"); status != http.StatusSeeOther {
		t.Fatalf("login: %d", status)
	}
	status, page := c.get(gw.url + "/.trustgate/verify")
	m := verifyLinkRE.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("prompt: %d\n%s", status, page)
	}
	ctx := context.Background()
	rep, err := dev.Verify(ctx, html.UnescapeString(m[1]), healthyFacts())
	if err != nil || rep.Push == nil {
		t.Fatalf("report: %+v, %v", rep, err)
	}
	ans, err := dev.Answer(ctx, gw.url, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil || ans.ReturnURL == "" {
		t.Fatalf("approval: %+v, %v", ans, err)
	}

	// The browser opens the return link; the gateway commits the login,
	// and is killed before the browser reads a byte of the answer.
	conn := sendWithoutReading(t, c, ans.ReturnURL)
	defer conn.Close()
	waitForSuccessRow(t, admin, "user00")
	gw.kill()

	gw = bg.launch(t)
	defer gw.stop()
	if status, page := c.get(ans.ReturnURL); status != http.StatusSeeOther {
		t.Fatalf("return link opened again after the restart: %d\n%s", status, page)
	}
	if status, body := c.get(gw.url + "/"); status != http.StatusOK || !strings.Contains(body, "upstream: user00") {
		t.Fatalf("after the reopened link: %d %s", status, body)
	}
	if n := successRows(t, admin, "user00"); n != 1 {
		t.Errorf("auth log has %d success rows, want 1", n)
	}
	// Opened once more, the link says the person is signed in.
	if status, page := c.get(ans.ReturnURL); status != http.StatusOK || !strings.Contains(page, `id="signed-in"`) {
		t.Errorf("return link opened after success: %d\n%s", status, page)
	}
}

// sendWithoutReading sends a GET for u with c's cookies on a connection of
// its own and returns without reading the answer: c's cookie jar never
// sees what the gateway sets.
func sendWithoutReading(t *testing.T, c *client, u string) net.Conn {
	t.Helper()
	target, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", target.Host)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", c.ua)
	for _, ck := range c.c.Jar.Cookies(target) {
		req.AddCookie(ck)
	}
	w := bufio.NewWriter(conn)
	if err := req.Write(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return conn
}

// successRows counts user's success rows in the auth log.
func successRows(t *testing.T, admin, user string) int {
	t.Helper()
	resp, err := http.Get(admin + "/trusted-endpoints/auth-log?result=success&user=" + user)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Entries []json.RawMessage `json:"entries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return len(out.Entries)
}

// waitForSuccessRow waits until user's login is committed to the auth log.
func waitForSuccessRow(t *testing.T, admin, user string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for successRows(t, admin, user) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the login was never recorded")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
