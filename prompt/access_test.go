package prompt

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/store"
)

// TestAccessRefusalReadsNoStorageAfterItsLogEntry: a refused person's
// requests are answered from the session alone; only the first writes its
// auth-log entry, and no request reads the device's trust or anything else.
func TestAccessRefusalReadsNoStorageAfterItsLogEntry(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeBlock, nil, nil)
	var calls atomic.Int64
	ag.cfg.Store = store.Counted(ag.cfg.Store.(store.Store), func() { calls.Add(1) })
	access, err := policy.NewAccess(&policy.AccessRules{Groups: []string{"admins"}})
	if err != nil {
		t.Fatal(err)
	}
	ag.cfg.Access = access
	if ag.refusals, err = newRefusalLog(access); err != nil {
		t.Fatal(err)
	}
	// alice's trust names a device that is in no cache: letting her
	// through would read the store.
	value, err := ag.codec.Encode(session.CookieBase, ag.session("s1", "trusted", "dev1"))
	if err != nil {
		t.Fatal(err)
	}
	refused := func(accept string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
		r.Header.Set("Accept", accept)
		r.AddCookie(&http.Cookie{Name: session.CookieBase, Value: value})
		w := httptest.NewRecorder()
		if _, handled := ag.Authenticate(w, r); !handled || w.Code != http.StatusForbidden {
			t.Fatalf("Authenticate: handled %v, status %d; want a 403", handled, w.Code)
		}
		return w
	}
	w := refused("text/html")
	if body := w.Body.String(); !strings.Contains(body, "app.example.com") || !strings.Contains(body, `action="/.trustgate/logout"`) {
		t.Errorf("403 page does not name the application (the host) or offer sign-out:\n%s", body)
	}
	first := calls.Load()
	if first != 1 {
		t.Errorf("first refusal made %d store calls, want 1 (its auth-log entry)", first)
	}
	for range 10 {
		refused("text/html")
		refused("application/json")
	}
	if n := calls.Load() - first; n != 0 {
		t.Errorf("20 more refused requests made %d store calls, want none", n)
	}
	if w := refused("application/json"); w.Body.String() != `{"application":"app.example.com","error":"not authorized"}`+"\n" {
		t.Errorf("API client body %q", w.Body.String())
	}
}
