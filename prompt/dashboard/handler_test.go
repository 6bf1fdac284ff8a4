package dashboard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap"
)

type personKey struct{}

// newTestDashboard returns a dashboard at /admin for the group ops, over
// a gateway that no test here calls; the signed-in person rides in the
// request's context.
func newTestDashboard(t *testing.T) *Handler {
	t.Helper()
	h, err := New(Config{
		AdminGroups: []string{"ops"},
		PathPrefix:  "/admin",
		SignedIn: func(r *http.Request) *Person {
			p, _ := r.Context().Value(personKey{}).(*Person)
			return p
		},
		Logger: zap.NewNop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get sends method path as a browser of person (nil: nobody signed in).
func get(h *Handler, person *Person, method, path string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.Header.Set("Accept", "text/html")
	r = r.WithContext(context.WithValue(r.Context(), personKey{}, person))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// TestDashboardOwnsOnlyItsPrefix: the prefix itself and the paths under it
// are the dashboard's; a path that merely starts with it is not.
func TestDashboardOwnsOnlyItsPrefix(t *testing.T) {
	h := newTestDashboard(t)
	for path, want := range map[string]bool{
		"/admin": true, "/admin/": true, "/admin/endpoints": true,
		"/administrator": false, "/": false, "/app/admin": false,
	} {
		if got := h.Owns(path); got != want {
			t.Errorf("Owns(%q) = %v, want %v", path, got, want)
		}
	}
}

// TestDashboardRoutesWithItsOwnPages: only admins get in, behind the
// gateway's sign-in; a wrong method, an unknown or an unclean path gets
// the dashboard's page (never a redirect out of its prefix); a client
// that is not a browser gets the error as JSON.
func TestDashboardRoutesWithItsOwnPages(t *testing.T) {
	h := newTestDashboard(t)
	admin := &Person{User: "alice", Groups: []string{"staff", "ops"}, CSRF: "token"}
	for _, tt := range []struct {
		name         string
		person       *Person
		method, path string
		status       int
		want         string
	}{
		{"nobody signed in", nil, "GET", "/admin/", http.StatusInternalServerError, "misconfigured"},
		{"not an admin", &Person{User: "bob", Groups: []string{"staff"}}, "GET", "/admin/endpoints", http.StatusForbidden, "for administrators"},
		{"wrong method", admin, "DELETE", "/admin/endpoints", http.StatusMethodNotAllowed, "cannot be used that way"},
		{"wrong method at the root", admin, "POST", "/admin", http.StatusMethodNotAllowed, "cannot be used that way"},
		{"wrong method on a device", admin, "PUT", "/admin/endpoints/dev-1/revoke", http.StatusMethodNotAllowed, "cannot be used that way"},
		{"unknown view", admin, "GET", "/admin/settings", http.StatusNotFound, "no such page"},
		{"unknown device action", admin, "GET", "/admin/endpoints/dev-1/delete", http.StatusNotFound, "no such page"},
		{"no device", admin, "GET", "/admin/endpoints/", http.StatusNotFound, "no such page"},
		{"unclean path", admin, "GET", "/admin/endpoints/../impact", http.StatusNotFound, "no such page"},
		{"static file, wrong method", admin, "POST", "/admin/static/dashboard.css", http.StatusNotFound, "no such page"},
		{"static file", admin, "GET", "/admin/static/dashboard.css", http.StatusOK, "{"},
	} {
		rec := get(h, tt.person, tt.method, tt.path)
		if rec.Code != tt.status || !strings.Contains(strings.ToLower(rec.Body.String()), strings.ToLower(tt.want)) {
			t.Errorf("%s: %s %s = %d\n%s\nwant %d with %q", tt.name, tt.method, tt.path, rec.Code, rec.Body.String(), tt.status, tt.want)
		}
		if rec.Code != http.StatusOK && rec.Header().Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: the error page lacks the dashboard's policy", tt.name)
		}
	}
	r := httptest.NewRequest("GET", "/admin/settings", nil)
	r = r.WithContext(context.WithValue(r.Context(), personKey{}, admin))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusNotFound || rec.Body.String() != `{"error":"There is no such page in the dashboard.","code":"not_found"}`+"\n" {
		t.Errorf("not a browser: %d %q", rec.Code, rec.Body.String())
	}
}
