package prompt

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/secret"
	"github.com/trustgate/trustgate/prompt/session"
)

// inRealm puts ag's gate in realm, naming the realms of names in its log,
// and returns the log.
func (ag *assertionGate) inRealm(t *testing.T, realm string, names map[string]string) *observer.ObservedLogs {
	t.Helper()
	core, logs := observer.New(zap.InfoLevel)
	ag.cfg.Logger = zap.New(core)
	ag.cfg.Realm = realm
	ag.cfg.RealmName = func(id string) string { return names[id] }
	if err := ag.initSessions(); err != nil {
		t.Fatal(err)
	}
	return logs
}

func TestSessionWithoutRealmIsRefused(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	s := ag.session("s-old", "", "")
	if _, ok := ag.signedInRequest(ag.encodeSession(t, s)); !ok {
		t.Fatal("control: a session of the gate's realm was refused")
	}
	s.Realm = "" // as in every cookie made before realms
	if w, ok := ag.signedInRequest(ag.encodeSession(t, s)); ok {
		t.Fatal("a session without a realm was let through")
	} else if w.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401 (no session)", w.Code)
	}
}

func TestSessionFromAnotherRealmIsRefusedAndLoggedOnce(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeOff, nil, nil)
	const realmA, realmB = "users_file:/sites/a.yaml", "users_file:/sites/b.yaml"
	logs := ag.inRealm(t, realmA, map[string]string{session.RealmID(realmB): realmB})
	s := ag.session("s-b", "", "")
	s.Realm = session.RealmID(realmB)
	value := ag.encodeSession(t, s)
	for range 1000 {
		if _, ok := ag.signedInRequest(value); ok {
			t.Fatal("a session of another realm was let through")
		}
	}
	refused := logs.FilterMessage("session from another realm refused").All()
	if len(refused) != 1 {
		t.Fatalf("%d log lines for one copied cookie sent 1000 times, want 1", len(refused))
	}
	fields := refused[0].ContextMap()
	if fields["realm"] != realmA || fields["session_realm"] != realmB || fields["session_id"] != "s-b" {
		t.Fatalf("log fields %v", fields)
	}
	// The gate's own session is let through.
	s.ID, s.Realm = "s-a", session.RealmID(realmA)
	if _, ok := ag.signedInRequest(ag.encodeSession(t, s)); !ok {
		t.Fatal("control: a session of the gate's realm was refused")
	}
}

func TestLoginFlowFromAnotherRealmIsIgnored(t *testing.T) {
	t.Parallel()
	ag := newAssertionGate(t, policy.ModeBlock, nil, nil)
	const realmA, realmB = "users_file:/sites/a.yaml", "users_file:/sites/b.yaml"
	ag.inRealm(t, realmA, nil)
	verify := func(realm string) int {
		f := &flow{
			Return: "/", CSRF: "csrf", ExpiresAt: ag.now.Add(time.Minute).Unix(), Realm: session.RealmID(realm),
			Pending: &pendingLogin{Identity: session.Identity{User: "alice"}, Factor: "password", Secret: secret.Token()},
		}
		value, err := ag.codec.Encode(session.FlowCookieBase, f)
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodGet, "http://app.example.com"+ReservedPrefix+"verify", nil)
		r.Header.Set("Accept", "text/html")
		r.AddCookie(&http.Cookie{Name: session.FlowCookieBase, Value: value})
		w := httptest.NewRecorder()
		ag.Authenticate(w, r)
		return w.Code
	}
	if code := verify(realmB); code != http.StatusBadRequest {
		t.Fatalf("pending device check of another realm: status %d, want 400 (sign-in expired)", code)
	}
	if code := verify(realmA); code != http.StatusOK {
		t.Fatalf("control: pending device check of the gate's realm: status %d, want the prompt", code)
	}
}
