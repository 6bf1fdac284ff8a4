package prompt

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/oidctest"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// providerTimeout is the provider timeout of these tests: short, so that a
// call that is not bounded by it shows as a test that takes far longer.
const providerTimeout = 300 * time.Millisecond

// TestOIDCProviderDownShowsUnreachablePage goes through the gate: the
// person gets a clear 503 page in time, not a hang or a 500.
func TestOIDCProviderDownShowsUnreachablePage(t *testing.T) {
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now().Add(-time.Hour))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, issuer := range map[string]string{"hanging": oidctest.HangingIssuer(t), "closed": oidctest.ClosingIssuer(t)} {
		t.Run(name, func(t *testing.T) {
			o, err := signin.NewOIDCLogin(signin.OIDCConfig{Issuer: issuer, ClientID: testClientID, Timeout: providerTimeout})
			if err != nil {
				t.Fatal(err)
			}
			g, err := NewGate(Config{Application: "legacy", OIDC: o, Store: st, Cookies: codec})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "https://gw.test/.trustgate/login?return=/app", nil)
			r.Header.Set("Accept", "text/html")
			w := httptest.NewRecorder()
			start := time.Now()
			g.Authenticate(w, r)
			if took := time.Since(start); took > 5*providerTimeout+time.Second {
				t.Errorf("answered after %s, with a provider timeout of %s", took, providerTimeout)
			}
			body := w.Body.String()
			if w.Code != http.StatusServiceUnavailable || !strings.Contains(body, "Sign-in provider unreachable") || w.Header().Get("Retry-After") == "" {
				t.Fatalf("answered %d (Retry-After %q):\n%s", w.Code, w.Header().Get("Retry-After"), body)
			}
		})
	}
}
