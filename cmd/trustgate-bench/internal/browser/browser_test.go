package browser

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A status poll answered 200 gives the state; any other answer is a
// *PollRefused carrying the Retry-After the page backs off by.
func TestStatusReadsTheStateOrTheRefusal(t *testing.T) {
	t.Parallel()
	var busy atomic.Bool
	busy.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.trustgate/verify/status" || r.Header.Get("Accept") != "application/json" {
			http.NotFound(w, r)
			return
		}
		if busy.Load() {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "  busy \n  now ", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"state":"waiting"}`)
	}))
	defer srv.Close()
	b := New(nil)
	defer b.CloseIdleConnections()

	_, err := b.Status(context.Background(), srv.URL)
	var refused *PollRefused
	if !errors.As(err, &refused) || refused.Status != http.StatusServiceUnavailable || refused.RetryAfter != 7*time.Second || refused.Body != "busy now" {
		t.Fatalf("busy gateway: err %v, want a refusal with status 503, Retry-After 7s and the body", err)
	}
	busy.Store(false)
	if state, err := b.Status(context.Background(), srv.URL); err != nil || state != "waiting" {
		t.Fatalf("state %q, %v; want waiting", state, err)
	}
}

// A browser sending through another transport keeps its cookies, and its
// Cookie header carries them.
func TestThroughKeepsTheBrowsersCookies(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1", Path: "/"})
			return
		}
		c, err := r.Cookie("session")
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, c.Value)
	}))
	defer srv.Close()
	b := New(nil)
	if _, err := b.Expect(context.Background(), srv.URL+"/set", http.StatusOK); err != nil {
		t.Fatal(err)
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	other := b.Through(transport)
	body, err := other.Expect(context.Background(), srv.URL+"/", http.StatusOK)
	if err != nil || body != "s1" {
		t.Fatalf("through another transport: %q, %v; want the session", body, err)
	}
	if header, err := other.CookieHeader(srv.URL); err != nil || header != "session=s1" {
		t.Errorf("Cookie header %q, %v", header, err)
	}
	if _, err := New(nil).CookieHeader(srv.URL); err == nil || !strings.Contains(err.Error(), "no cookie") {
		t.Errorf("a fresh browser's Cookie header: err %v, want none held", err)
	}
}
