package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/fstest"
)

// TestServeEmbeddedStatic: a known file is served with the caller's
// headers, its type and body (none for HEAD); an unknown, empty or unclean
// name is a 404 that does not get the caller's headers.
func TestServeEmbeddedStatic(t *testing.T) {
	fsys := fstest.MapFS{
		"site.css":    {Data: []byte("body{}")},
		"img/a.svg":   {Data: []byte("<svg/>")},
		"secret.conf": {Data: []byte("not here")},
	}
	setHeaders := func(w http.ResponseWriter) { w.Header().Set("Cache-Control", "public, max-age=60") }
	cases := []struct {
		method, name string
		status       int
		body, ctype  string
	}{
		{"GET", "site.css", http.StatusOK, "body{}", "text/css; charset=utf-8"},
		{"HEAD", "site.css", http.StatusOK, "", "text/css; charset=utf-8"},
		{"GET", "img/a.svg", http.StatusOK, "<svg/>", "image/svg+xml"},
		{"GET", "missing.css", http.StatusNotFound, "", ""},
		{"GET", "", http.StatusNotFound, "", ""},
		{"GET", "img/../site.css", http.StatusNotFound, "", ""},
		{"GET", "./site.css", http.StatusNotFound, "", ""},
		{"GET", "img/", http.StatusNotFound, "", ""},
		{"GET", "img", http.StatusNotFound, "", ""},
	}
	for _, tc := range cases {
		rec := httptest.NewRecorder()
		ServeEmbedded(rec, httptest.NewRequest(tc.method, "/static/x", nil), fsys, tc.name, setHeaders)
		if rec.Code != tc.status {
			t.Errorf("%s %q: status %d, want %d", tc.method, tc.name, rec.Code, tc.status)
			continue
		}
		cc := rec.Header().Get("Cache-Control")
		if tc.status != http.StatusOK {
			if cc != "" {
				t.Errorf("%s %q: the 404 got the file's headers (Cache-Control %q)", tc.method, tc.name, cc)
			}
			continue
		}
		if cc != "public, max-age=60" {
			t.Errorf("%s %q: Cache-Control %q, want the caller's", tc.method, tc.name, cc)
		}
		if got := rec.Header().Get("Content-Type"); got != tc.ctype {
			t.Errorf("%s %q: Content-Type %q, want %q", tc.method, tc.name, got, tc.ctype)
		}
		if got := rec.Body.String(); got != tc.body {
			t.Errorf("%s %q: body %q, want %q", tc.method, tc.name, got, tc.body)
		}
	}
}
