package session

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// testPending stands in for the gate's device check in progress.
type testPending struct {
	Tx string `json:"tx"`
}

// flowRequest returns a request carrying the flow cookies that w set.
func flowRequest(w *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/.trustgate/verify", nil)
	for _, c := range w.Result().Cookies() {
		r.AddCookie(c)
	}
	return r
}

func TestFlowIsReadBackUntilItExpiresInItsRealmOnly(t *testing.T) {
	k := newTestKeeper(t, 0)
	flows := FlowsOf[testPending](k.Keeper)
	f := flows.New("/reports")
	f.CSRF, f.Pending = "csrf", &testPending{Tx: "tx1"}
	w := httptest.NewRecorder()
	if err := flows.Set(w, httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil), f); err != nil {
		t.Fatal(err)
	}
	got := flows.Read(flowRequest(w))
	if got == nil || got.Return != "/reports" || got.CSRF != "csrf" || got.Pending == nil || got.Pending.Tx != "tx1" {
		t.Fatalf("flow read back as %+v", got)
	}

	other, err := NewKeeper(Config{Codec: k.codec, Realm: "users_file:/sites/other.yaml", Lifetime: time.Hour, Now: func() time.Time { return k.clock }})
	if err != nil {
		t.Fatal(err)
	}
	if got := FlowsOf[testPending](other).Read(flowRequest(w)); got != nil {
		t.Fatalf("a flow of another realm was read: %+v", got)
	}

	k.clock = k.clock.Add(FlowLifetime)
	if got := flows.Read(flowRequest(w)); got != nil {
		t.Fatalf("an expired flow was read: %+v", got)
	}
}

func TestRenewKeepsTheSessionAndChangesItsIdentity(t *testing.T) {
	k := newTestKeeper(t, 0)
	s := k.session("s1", "trusted", "dev1")
	k.clock = k.clock.Add(time.Hour)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/", nil)
	next, err := k.Renew(w, r, s, Identity{User: "alice", Groups: []string{"staff"}, RecheckAt: 42})
	if err != nil {
		t.Fatal(err)
	}
	if next.ID != s.ID || next.ExpiresAt != s.ExpiresAt || next.Trust != s.Trust || next.RecheckAt != 42 || next.JoinedGroups() != "staff" {
		t.Fatalf("renewed session %+v from %+v", next, s)
	}
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || cookies[0].MaxAge != int((7*time.Hour)/time.Second) {
		t.Fatalf("renewed cookie %v, want one lasting the session's remaining 7h", cookies)
	}
	if got, ok := k.signedInRequest(cookies[0].Value); !ok {
		t.Fatalf("the renewed cookie was refused: %d", got.Code)
	}
}
