package assertion

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/store"
)

// assertionBase is the test clock's start: whole seconds, in UTC.
var assertionBase = time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)

// defaultIdentityHeaders are the gate's default identity header names
// (prompt.DefaultIdentityHeaders), which the assertion's header may not
// take.
var defaultIdentityHeaders = []string{"X-Trustgate-User", "X-Trustgate-Email", "X-Trustgate-Groups", "X-Trustgate-Device-Trust", "X-Trustgate-Device-Id"}

func TestSigningKeySelection(t *testing.T) {
	at := func(minutes int) time.Time { return assertionBase.Add(time.Duration(minutes) * time.Minute) }
	key := func(id string, activates time.Time) store.SigningKey {
		k, err := NewSigningKey(activates.Add(-SigningKeyPropagationDelay), activates)
		if err != nil {
			t.Fatal(err)
		}
		k.ID = id
		return k
	}
	retire := int((MaxLifetime + SigningKeyPropagationDelay) / time.Minute)
	tests := []struct {
		name          string
		keys          []store.SigningKey // newest first
		now           time.Time
		wantSigning   string
		wantPublished []string
	}{
		{"one key", []store.SigningKey{key("a", at(0))}, at(0), "a", []string{"a"}},
		{"new key not yet active", []store.SigningKey{key("b", at(10)), key("a", at(0))}, at(5), "a", []string{"b", "a"}},
		{"new key active, old still published", []store.SigningKey{key("b", at(10)), key("a", at(0))}, at(10), "b", []string{"b", "a"}},
		{"old key aged out", []store.SigningKey{key("b", at(10)), key("a", at(0))}, at(10 + retire), "b", []string{"b"}},
		{"two rotations inside the delay: the newest active signs", []store.SigningKey{key("c", at(12)), key("b", at(10)), key("a", at(0))}, at(12), "c", []string{"c", "b", "a"}},
		{"the oldest key ages out from the first newer activation", []store.SigningKey{key("c", at(30)), key("b", at(10)), key("a", at(0))}, at(10 + retire), "c", []string{"c", "b"}},
		{"newest by order wins despite an earlier activation (clock behind)", []store.SigningKey{key("b", at(-5)), key("a", at(0))}, at(1), "b", []string{"b", "a"}},
		{"no key active yet: the oldest signs", []store.SigningKey{key("b", at(20)), key("a", at(10))}, at(0), "a", []string{"b", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := NewSigningKeys(tt.keys)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys.SigningKeyID(tt.now); got != tt.wantSigning {
				t.Errorf("signing key = %s, want %s", got, tt.wantSigning)
			}
			if got := keys.PublishedKeyIDs(tt.now); !slices.Equal(got, tt.wantPublished) {
				t.Errorf("published = %v, want %v", got, tt.wantPublished)
			}
		})
	}
}

func TestAssertionConfigIsChecked(t *testing.T) {
	key, err := NewSigningKey(assertionBase, assertionBase)
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := NewSigningKeys([]store.SigningKey{key})
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no keys", Config{}},
		{"lifetime too long", Config{Keys: keys, Lifetime: 2 * time.Hour}},
		{"lifetime too short", Config{Keys: keys, Lifetime: time.Millisecond}},
		{"header of the identity", Config{Keys: keys, Header: "x_trustgate_user"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewSigner(&tt.cfg, defaultIdentityHeaders); err == nil {
				t.Error("accepted")
			}
		})
	}
	if _, err := NewSigningKeys([]store.SigningKey{{ID: "bad", PrivateKey: []byte("not a key")}}); err == nil {
		t.Error("NewSigningKeys accepted a key that does not parse")
	}
}

// BenchmarkAssertionHotPath measures what the assertion adds to a signed-in
// request: "cached" is the usual request of a session whose token is fresh,
// "signing" one that needs a new token (ECDSA P-256).
func BenchmarkAssertionHotPath(b *testing.B) {
	key, err := NewSigningKey(assertionBase, assertionBase)
	if err != nil {
		b.Fatal(err)
	}
	keys, err := NewSigningKeys([]store.SigningKey{key})
	if err != nil {
		b.Fatal(err)
	}
	a, err := NewSigner(&Config{Keys: keys}, defaultIdentityHeaders)
	if err != nil {
		b.Fatal(err)
	}
	s := &Subject{Session: "s1", User: "alice", Expires: assertionBase.Add(8 * time.Hour)}
	r := httptest.NewRequest(http.MethodGet, "http://app.example.com/reports", nil)
	b.Run("cached", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := a.Token(r, s, "", policy.ModeOff, assertionBase); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("signing", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			a.cache.Purge()
			if _, err := a.Token(r, s, "", policy.ModeOff, assertionBase); err != nil {
				b.Fatal(err)
			}
		}
	})
}
