package prompt

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/prompt/web"
)

// TestReservedRouterNeverRedirects: the gate's router answers paths that
// ServeMux would redirect (unclean, or a prefix route without its slash)
// as the gateway always has, with a 404, never a redirect; an unknown path
// is the not-found page for a browser and JSON for a script.
func TestReservedRouterNeverRedirects(t *testing.T) {
	g := hardeningSite(t)
	cases := []struct {
		path    string
		browser bool
		status  int
		body    string
		csp     string
	}{
		{"/.trustgate/nothing-here", true, http.StatusNotFound, "There is no such page on this gateway.", web.PageCSP},
		{"/.trustgate/nothing-here", false, http.StatusNotFound, `"error":"There is no such page on this gateway."`, web.PlainCSP},
		{"/.trustgate/static", true, http.StatusNotFound, "There is no such page", web.PageCSP},
		{"/.trustgate/device/v1", true, http.StatusNotFound, "There is no such page", web.PageCSP},
		{"/.trustgate/./login", true, http.StatusNotFound, "There is no such page", web.PageCSP},
		{"/.trustgate//verify", true, http.StatusNotFound, "There is no such page", web.PageCSP},
		{"/.trustgate/static/../static/trustgate.css", true, http.StatusNotFound, "404 page not found", web.PageCSP},
		{"/.trustgate/static/", true, http.StatusNotFound, "404 page not found", web.PageCSP},
		{"/.trustgate/login/", true, http.StatusNotFound, "There is no such page", web.PageCSP},
		{"/.trustgate/static/trustgate.css", true, http.StatusOK, "", web.PageCSP},
	}
	for _, c := range cases {
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com"+c.path, nil)
		if c.browser {
			r.Header.Set("Accept", "text/html")
		}
		w := httptest.NewRecorder()
		if _, handled := g.Authenticate(w, r); !handled {
			t.Fatalf("%s: not handled", c.path)
		}
		if w.Code != c.status || !strings.Contains(w.Body.String(), c.body) {
			t.Errorf("%s (browser %v): %d %.200q, want %d with %q", c.path, c.browser, w.Code, w.Body.String(), c.status, c.body)
		}
		if got := w.Header().Get("Content-Security-Policy"); got != c.csp {
			t.Errorf("%s (browser %v): Content-Security-Policy %q, want %q", c.path, c.browser, got, c.csp)
		}
	}
}
