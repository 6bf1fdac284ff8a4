package dashboard

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDashboardStaticHeaders: the dashboard's stylesheet is served with the
// dashboard's policy and private caching (it sits behind the sign-in); a
// missing or unclean name is a 404.
func TestDashboardStaticHeaders(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := httptest.NewRecorder()
		serveStatic(rec, httptest.NewRequest(method, "/dashboard/static/dashboard.css", nil), "dashboard.css")
		if rec.Code != http.StatusOK {
			t.Fatalf("%s dashboard.css: status %d", method, rec.Code)
		}
		for name, want := range map[string]string{
			"Cache-Control":           "private, max-age=3600",
			"Content-Security-Policy": CSP,
			"Content-Type":            "text/css; charset=utf-8",
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := rec.Header().Get(name); got != want {
				t.Errorf("%s dashboard.css: %s %q, want %q", method, name, got, want)
			}
		}
		if method == http.MethodHead && rec.Body.Len() != 0 {
			t.Errorf("HEAD dashboard.css has a body")
		}
		if method == http.MethodGet && rec.Body.Len() == 0 {
			t.Errorf("GET dashboard.css is empty")
		}
	}
	for _, name := range []string{"missing.css", "", "../dashboard.css", "./dashboard.css"} {
		rec := httptest.NewRecorder()
		serveStatic(rec, httptest.NewRequest(http.MethodGet, "/dashboard/static/x", nil), name)
		if rec.Code != http.StatusNotFound {
			t.Errorf("%q: status %d, want 404", name, rec.Code)
		}
	}
}
