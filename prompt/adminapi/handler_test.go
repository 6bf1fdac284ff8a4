package adminapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/web"
)

// fakeGateway answers what a test sets; any other method panics.
type fakeGateway struct {
	Gateway
	revokedUser string
	revokeErr   error
}

func (g *fakeGateway) RevokeUserSessions(_ context.Context, user string, _ time.Time) error {
	g.revokedUser = user
	return g.revokeErr
}

// serve sends method path (with body) to an admin API over gw and returns
// the answer.
func serve(gw Gateway, gwErr error, method, path, body string) *httptest.ResponseRecorder {
	h := New(func() (Gateway, error) { return gw, gwErr }, zap.NewNop())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	return rec
}

// TestRoutesRefuseOtherMethodsNamingTheirOwn: every route answers another
// method with a 405 that names the route's in Allow and in the error,
// before it asks for the gateway.
func TestRoutesRefuseOtherMethodsNamingTheirOwn(t *testing.T) {
	for _, tt := range []struct{ method, path, allow string }{
		{"POST", "/trusted-endpoints/devices", "GET"},
		{"DELETE", "/trusted-endpoints/devices/dev-1", "GET"},
		{"GET", "/trusted-endpoints/devices/dev-1/revoke", "POST"},
		{"GET", "/trusted-endpoints/activations", "POST"},
		{"POST", "/trusted-endpoints/auth-log", "GET"},
		{"POST", "/trusted-endpoints/rollout-impact", "GET"},
		{"GET", "/trusted-endpoints/what-if", "POST"},
		{"GET", "/trusted-endpoints/cookie-keys/rotate", "POST"},
		{"GET", "/trusted-endpoints/signing-keys/rotate", "POST"},
		{"GET", "/trusted-endpoints/users/alice/sessions/revoke", "POST"},
		{"PATCH", "/trusted-endpoints/inventories", "GET, POST"},
		{"POST", "/trusted-endpoints/inventories/inv-1", "DELETE, GET"},
		{"POST", "/trusted-endpoints/inventories/inv-1/entries", "GET, PUT"},
		{"GET", "/trusted-endpoints/inventories/inv-1/activate", "POST"},
		{"GET", "/trusted-endpoints/inventories/previous/restore", "POST"},
	} {
		rec := serve(nil, errors.New("not asked"), tt.method, tt.path, "")
		want := fmt.Sprintf(`{"error":"method %s not allowed; use %s"}`+"\n", tt.method, tt.allow)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tt.allow || rec.Body.String() != want {
			t.Errorf("%s %s: %d Allow %q %q, want 405 Allow %s %q", tt.method, tt.path, rec.Code, rec.Header().Get("Allow"), rec.Body.String(), tt.allow, want)
		}
	}
}

// TestUnknownRoutesAreNotFound: a path under a route's subtree that is
// none of its routes is a JSON 404 naming the routes; any other path is
// the plain 404 of Caddy's admin endpoint.
func TestUnknownRoutesAreNotFound(t *testing.T) {
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/trusted-endpoints/devices/dev-1/delete", `{"error":"no such route; want GET /trusted-endpoints/devices/{id} or POST /trusted-endpoints/devices/{id}/revoke"}` + "\n"},
		{"GET", "/trusted-endpoints/devices/dev-1/revoke/", `{"error":"no such route; want GET /trusted-endpoints/devices/{id} or POST /trusted-endpoints/devices/{id}/revoke"}` + "\n"},
		{"POST", "/trusted-endpoints/users/alice/sessions", `{"error":"no such route; want POST /trusted-endpoints/users/{user}/sessions/revoke"}` + "\n"},
		{"POST", "/trusted-endpoints/inventories/inv-1/restore", `{"error":"no such route; want GET or DELETE /trusted-endpoints/inventories/{id}, GET or PUT /trusted-endpoints/inventories/{id}/entries, POST /trusted-endpoints/inventories/{id}/activate or POST /trusted-endpoints/inventories/previous/restore"}` + "\n"},
		{"GET", "/trusted-endpoints/nothing", "404 page not found\n"},
	} {
		rec := serve(nil, errors.New("not asked"), tt.method, tt.path, "")
		if rec.Code != http.StatusNotFound || rec.Body.String() != tt.body {
			t.Errorf("%s %s: %d %q, want 404 %q", tt.method, tt.path, rec.Code, rec.Body.String(), tt.body)
		}
	}
}

// TestGatewayErrorIsTheAnswer: without a running gateway, a route answers
// the lookup's error as it is.
func TestGatewayErrorIsTheAnswer(t *testing.T) {
	notRunning := web.Errorf(http.StatusNotFound, "trusted_endpoints is not running: %s", "app not configured")
	rec := serve(nil, notRunning, "GET", "/trusted-endpoints/devices", "")
	if rec.Code != http.StatusNotFound || rec.Body.String() != `{"error":"trusted_endpoints is not running: app not configured"}`+"\n" {
		t.Errorf("%d %q", rec.Code, rec.Body.String())
	}
	// Bad input is refused before the gateway is looked up.
	rec = serve(nil, notRunning, "GET", "/trusted-endpoints/devices?limit=0", "")
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"limit: want 1 to 1000, got \"0\""`) {
		t.Errorf("bad limit: %d %q", rec.Code, rec.Body.String())
	}
}

// TestRevokeUserSessionsReadsTheEncodedUser: a user name with a slash is
// percent-encoded in the path; a revocation stored but not announced
// still succeeds, and a failed one is a 503 that says it holds here.
func TestRevokeUserSessionsReadsTheEncodedUser(t *testing.T) {
	gw := &fakeGateway{}
	rec := serve(gw, nil, "POST", "/trusted-endpoints/users/corp%2Falice/sessions/revoke", "")
	if rec.Code != http.StatusOK || gw.revokedUser != "corp/alice" || !strings.Contains(rec.Body.String(), `"user":"corp/alice"`) {
		t.Errorf("%d %q, revoked %q", rec.Code, rec.Body.String(), gw.revokedUser)
	}
	gw.revokeErr = fmt.Errorf("%w: no events", ErrNotAnnounced)
	if rec := serve(gw, nil, "POST", "/trusted-endpoints/users/bob/sessions/revoke", ""); rec.Code != http.StatusOK {
		t.Errorf("not announced: %d %q", rec.Code, rec.Body.String())
	}
	gw.revokeErr = errors.New("database is down")
	rec = serve(gw, nil, "POST", "/trusted-endpoints/users/bob/sessions/revoke", "")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "in force on this instance only") {
		t.Errorf("store down: %d %q", rec.Code, rec.Body.String())
	}
}

// TestActivationTTLReadsCaddyDurations: days count, and the life is
// positive and at most seven days.
func TestActivationTTLReadsCaddyDurations(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30m", 30 * time.Minute, true},
		{"24h", 24 * time.Hour, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"8d", 0, false},
		{"200h", 0, false},
		{"-5m", 0, false},
		{"0s", 0, false},
		{"forever", 0, false},
	} {
		if got, ok := ParseActivationTTL(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseActivationTTL(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
