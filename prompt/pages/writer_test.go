package pages

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/web"
)

// TestErrorPageShowsTheMessageEscaped: an error a handler returns becomes
// the message page with its status, a title for it and the message,
// escaped, under the page policy.
func TestErrorPageShowsTheMessageEscaped(t *testing.T) {
	p, err := NewWriter(Opts{Application: "legacy"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	p.Error(w, httptest.NewRequest("GET", "/.trustgate/x", nil), web.Errorf(http.StatusNotFound, "No <b>such</b> page."))
	body := w.Body.String()
	if w.Code != http.StatusNotFound || !strings.Contains(body, "<h1>Not found</h1>") || !strings.Contains(body, "No &lt;b&gt;such&lt;/b&gt; page.") {
		t.Fatalf("got %d\n%s", w.Code, body)
	}
	if !strings.Contains(body, "legacy") {
		t.Error("the page does not name the application")
	}
	if w.Header().Get("Content-Security-Policy") != web.PageCSP || w.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", w.Header())
	}
}
