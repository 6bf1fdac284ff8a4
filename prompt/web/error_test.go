package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestErrorWriterAnswersBrowsersWithPagesAndOthersWithJSON: a typed error
// keeps its status and message (a page for a browser, JSON with its code
// for anyone else); an untyped one is a 500 that never shows its text but
// reaches the log.
func TestErrorWriterAnswersBrowsersWithPagesAndOthersWithJSON(t *testing.T) {
	var logged []error
	ew := ErrorWriter{
		Page: func(w http.ResponseWriter, r *http.Request, e *Error) {
			w.WriteHeader(e.Status)
			fmt.Fprintf(w, "<p>%s</p>", e.Message)
		},
		Log: func(r *http.Request, e *Error) { logged = append(logged, e) },
	}
	secret := errors.New("db password in dsn")
	cases := []struct {
		name      string
		err       error
		browser   bool
		status    int
		body      string
		logged    int
		jsonCode  string
		forbidden string
	}{
		{"typed, browser", Errorf(http.StatusForbidden, "not for you"), true, 403, "<p>not for you</p>", 0, "", ""},
		{"typed, API", Errorf(http.StatusConflict, "already answered").WithCode("already_answered"), false, 409, "already answered", 0, "already_answered", ""},
		{"wrapped typed", fmt.Errorf("answering: %w", Errorf(http.StatusBadRequest, "bad input")), false, 400, "bad input", 0, "", ""},
		{"untyped, API", secret, false, 500, "internal error", 1, "", "password"},
		{"untyped, browser", secret, true, 500, "internal error", 1, "", "password"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			logged = nil
			r := httptest.NewRequest("GET", "/x", nil)
			if c.browser {
				r.Header.Set("Accept", "text/html")
			}
			w := httptest.NewRecorder()
			ew.Handle(func(http.ResponseWriter, *http.Request) error { return c.err }).ServeHTTP(w, r)
			if w.Code != c.status {
				t.Fatalf("status %d, want %d", w.Code, c.status)
			}
			if !strings.Contains(w.Body.String(), c.body) {
				t.Fatalf("body %q, want %q in it", w.Body.String(), c.body)
			}
			if c.forbidden != "" && strings.Contains(w.Body.String(), c.forbidden) {
				t.Fatalf("body %q shows the cause", w.Body.String())
			}
			if len(logged) != c.logged {
				t.Fatalf("logged %d errors, want %d", len(logged), c.logged)
			}
			if !c.browser {
				var got JSONError
				if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
					t.Fatalf("not JSON: %v", err)
				}
				if got.Code != c.jsonCode {
					t.Fatalf("code %q, want %q", got.Code, c.jsonCode)
				}
				if w.Header().Get("Cache-Control") != "no-store" {
					t.Fatal("JSON error may be cached")
				}
			}
		})
	}
}

// TestHandleWritesNothingOnSuccess: a handler that answers and returns nil
// keeps its own answer.
func TestHandleWritesNothingOnSuccess(t *testing.T) {
	w := httptest.NewRecorder()
	ErrorWriter{}.Handle(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}).ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// TestWantsPage: only a browser navigation is shown a page.
func TestWantsPage(t *testing.T) {
	cases := []struct {
		accept, mode, xrw string
		want              bool
	}{
		{"text/html,application/xhtml+xml", "navigate", "", true},
		{"text/html", "", "", true},
		{"application/json", "", "", false},
		{"text/html", "cors", "", false},
		{"text/html", "", "XMLHttpRequest", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", c.accept)
		if c.mode != "" {
			r.Header.Set("Sec-Fetch-Mode", c.mode)
		}
		if c.xrw != "" {
			r.Header.Set("X-Requested-With", c.xrw)
		}
		if got := WantsPage(r); got != c.want {
			t.Errorf("%+v: WantsPage = %v, want %v", c, got, c.want)
		}
	}
}
