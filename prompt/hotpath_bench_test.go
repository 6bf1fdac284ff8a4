package prompt

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/session"
)

// BenchmarkHotPath measures the signed-in, trusted request: a valid session
// cookie whose device trust is in the trust cache, through Authenticate to
// the point where the request would go on to the upstream; without access
// rules, and with rules that let the person in only by the last one
// checked (their email's domain).
func BenchmarkHotPath(b *testing.B) {
	b.Run("no_rules", func(b *testing.B) { benchmarkHotPath(b, nil) })
	b.Run("allow_rules", func(b *testing.B) { benchmarkHotPath(b, benchAccessRules) })
}

// benchAccessRules let alice (groups staff and pilot, alice@example.com) in
// by her email's domain only.
var benchAccessRules = &policy.AccessRules{
	Users:  []string{"carol", "dave"},
	Groups: []string{"ops", "admins"},
	Emails: []string{"erin@example.org", "*@example.com"},
}

func benchmarkHotPath(b *testing.B, rules *policy.AccessRules) {
	ag := newAssertionGate(b, policy.ModeBlock, nil, nil)
	access, err := policy.NewAccess(rules)
	if err != nil {
		b.Fatal(err)
	}
	if ag.cfg.Access = access; access != nil {
		if ag.refusals, err = newRefusalLog(access); err != nil {
			b.Fatal(err)
		}
	}
	s := ag.session("s1", "trusted", "dev1")
	value, err := ag.codec.Encode(session.CookieBase, s)
	if err != nil {
		b.Fatal(err)
	}
	cookie := (&http.Cookie{Name: session.CookieBase, Value: value}).String() + "; theme=dark"
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		// Authenticate strips the gateway's cookie and the identity
		// headers, so each request starts from the browser's headers.
		r.Header = http.Header{"Cookie": {cookie}, "Accept": {"text/html"}}
		if _, handled := ag.Authenticate(w, r); handled {
			b.Fatalf("gate answered %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCookieDecode measures verifying, decrypting and unmarshalling a
// session cookie, without any cache.
func BenchmarkCookieDecode(b *testing.B) {
	ag := newAssertionGate(b, policy.ModeBlock, nil, nil)
	value, err := ag.codec.Encode(session.CookieBase, ag.session("s1", "trusted", "dev1"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var s session.Session
		if err := ag.codec.Decode(session.CookieBase, value, &s); err != nil {
			b.Fatal(err)
		}
	}
}
