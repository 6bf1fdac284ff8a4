package prompt

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
	"github.com/trustgate/trustgate/prompt/web"
)

// refreshSwitch makes the mock provider's token endpoint answer refresh
// grants as a real provider would for a disabled person (refuse) or while
// it is down, and counts the refresh grants it sees.
type refreshSwitch struct {
	refuse, down atomic.Bool
	refreshes    atomic.Int32
	// hold, when set, holds each refresh grant until it is closed.
	hold chan struct{}
}

func (s *refreshSwitch) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		_ = r.ParseForm()
		if r.PostForm.Get("grant_type") != "refresh_token" {
			next.ServeHTTP(w, r)
			return
		}
		s.refreshes.Add(1)
		if s.hold != nil {
			<-s.hold
		}
		switch {
		case s.down.Load():
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
		case s.refuse.Load():
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": "Account disabled"})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// revalidateGate is a gate with OIDC login at p, revalidate every 10
// minutes, on a clock the test moves.
type revalidateGate struct {
	*Gate
	p     *testProvider
	now   atomic.Int64 // Unix nanoseconds
	store store.Store
}

func newRevalidateGate(t *testing.T, p *testProvider, mode FailMode) *revalidateGate {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now().Add(-time.Hour))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rg := &revalidateGate{p: p, store: st}
	rg.now.Store(time.Now().UnixNano())
	// The provider keeps real time for its tokens; only the gate's clock
	// moves, so the provider's refresh tokens stay valid.
	o := p.login(t, signin.OIDCConfig{})
	rg.Gate, err = NewGate(Config{
		Application: "legacy", OIDC: o, Store: st, Cookies: codec, FailMode: mode,
		OIDCRevalidate: 10 * time.Minute, OIDCRedirectURL: testRedirectURI,
		Now: func() time.Time { return time.Unix(0, rg.now.Load()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return rg
}

func (rg *revalidateGate) advance(d time.Duration) { rg.now.Add(int64(d)) }

// gateBrowser carries the gate's cookies between requests.
type gateBrowser struct {
	t       *testing.T
	g       *revalidateGate
	cookies map[string]string
}

func (rg *revalidateGate) browser(t *testing.T) *gateBrowser {
	return &gateBrowser{t: t, g: rg, cookies: map[string]string{}}
}

// get runs a request through the gate; handled false means it would reach
// the application.
func (b *gateBrowser) get(target string) (*httptest.ResponseRecorder, bool) {
	b.t.Helper()
	return b.getAs(target, "text/html")
}

// getAs is get for a client that accepts accept.
func (b *gateBrowser) getAs(target, accept string) (*httptest.ResponseRecorder, bool) {
	b.t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://gate.example.test"+target, nil)
	r.Header.Set("Accept", accept)
	for name, value := range b.cookies {
		r.AddCookie(&http.Cookie{Name: name, Value: value})
	}
	w := httptest.NewRecorder()
	_, handled := b.g.Authenticate(w, r)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return w, handled
}

// signIn signs b in as user through the provider.
func (b *gateBrowser) signIn(user mockoidc.User) {
	b.t.Helper()
	w, _ := b.get("/.trustgate/login?return=/app")
	if w.Code != http.StatusFound {
		b.t.Fatalf("login: %d %s", w.Code, w.Body)
	}
	b.g.p.QueueUser(user)
	resp, err := browser.Get(w.Header().Get("Location"))
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	callback, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound {
		b.t.Fatalf("provider: %s %v", resp.Status, err)
	}
	if w, _ = b.get(callback.RequestURI()); w.Code != http.StatusSeeOther {
		b.t.Fatalf("callback: %d %s", w.Code, w.Body)
	}
}

// reaches reports whether a request for /app would reach the application.
func (b *gateBrowser) reaches() (*httptest.ResponseRecorder, bool) {
	b.t.Helper()
	w, handled := b.get("/app")
	return w, !handled
}

var revalidateUser = &mockoidc.MockUser{Subject: "u-42", Email: "dana@example.com", EmailVerified: true, PreferredUsername: "dana", Groups: []string{"staff"}}

func TestOIDCRevalidateAsksTheProviderOnlyWhenDue(t *testing.T) {
	t.Parallel()
	var sw refreshSwitch
	p := startProvider(t, "", sw.middleware)
	g := newRevalidateGate(t, p, FailSecure)
	b := g.browser(t)
	b.signIn(revalidateUser)
	sessionBefore := b.cookies["__Host-tg_session"]
	if sessionBefore == "" {
		t.Fatalf("no session cookie: %v", b.cookies)
	}
	for range 3 {
		if _, ok := b.reaches(); !ok {
			t.Fatal("signed-in request refused")
		}
	}
	if n := sw.refreshes.Load(); n != 0 {
		t.Fatalf("%d refreshes before the check was due", n)
	}
	if s := g.readSessionValue(t, sessionBefore); s.ProviderRef == "" || s.RecheckAt == 0 {
		t.Fatalf("session %+v has no provider reference or recheck time", s)
	} else {
		ps, err := g.store.ProviderSession(t.Context(), s.ProviderRef)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ps.Tokens, ".") {
			t.Fatal("tokens stored in the clear (a JWT has dots)")
		}
	}
	if strings.Contains(sessionBefore, "eyJ") {
		t.Fatal("a token in the session cookie")
	}

	g.advance(11 * time.Minute)
	if _, ok := b.reaches(); !ok {
		t.Fatal("request refused after a successful check")
	}
	if n := sw.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes when the check was due, want 1", n)
	}
	if b.cookies["__Host-tg_session"] == sessionBefore {
		t.Fatal("the session cookie was not re-issued with the next check time")
	}
	// Remembered in the cookie: the next requests read no provider.
	for range 3 {
		if _, ok := b.reaches(); !ok {
			t.Fatal("signed-in request refused")
		}
	}
	if n := sw.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes after the check, want still 1", n)
	}
}

func (rg *revalidateGate) readSessionValue(t *testing.T, value string) session.Session {
	t.Helper()
	var s session.Session
	if err := rg.cfg.Cookies.Decode("__Host-tg_session", value, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOIDCRevalidateSignsARefusedPersonOutEverywhere(t *testing.T) {
	t.Parallel()
	var sw refreshSwitch
	p := startProvider(t, "", sw.middleware)
	g := newRevalidateGate(t, p, FailSafe)
	laptop, phone := g.browser(t), g.browser(t)
	laptop.signIn(revalidateUser)
	phone.signIn(revalidateUser)
	other := g.browser(t)
	other.signIn(&mockoidc.MockUser{Subject: "u-7", PreferredUsername: "erin", Email: "erin@example.com", EmailVerified: true})

	sw.refuse.Store(true)
	g.advance(11 * time.Minute)
	w, ok := laptop.reaches()
	if ok || w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.trustgate/login?") {
		t.Fatalf("refused person: reached %v, %d to %q", ok, w.Code, w.Header().Get("Location"))
	}
	// Fail mode safe keeps sessions when the provider cannot answer, not
	// when it refuses: the person's other session ends too, without a
	// check of its own.
	before := sw.refreshes.Load()
	if _, ok := phone.reaches(); ok {
		t.Fatal("the person's other session still works")
	}
	if sw.refreshes.Load() != before {
		t.Fatal("the other session asked the provider again instead of being revoked")
	}
	entries, err := g.store.QueryAuthLog(t.Context(), store.AuthLogQuery{Reason: reasonProviderRefused})
	if err != nil || len(entries) != 1 || entries[0].User != "dana" || entries[0].Result != store.ResultDenied {
		t.Fatalf("auth log: %+v, %v; want one denied provider_refused row for dana", entries, err)
	}
	sw.refuse.Store(false)
	if _, ok := other.reaches(); !ok {
		t.Fatal("another person's session ended")
	}
}

func TestOIDCRevalidateWhileProviderDownFollowsFailMode(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode  FailMode
		keeps bool
	}{{FailSecure, false}, {FailSafe, true}, {FailCheck, true}} {
		t.Run(string(tt.mode), func(t *testing.T) {
			var sw refreshSwitch
			p := startProvider(t, "", sw.middleware)
			g := newRevalidateGate(t, p, tt.mode)
			b := g.browser(t)
			b.signIn(revalidateUser)
			sw.down.Store(true)
			g.advance(11 * time.Minute)
			w, ok := b.reaches()
			if ok != tt.keeps {
				t.Fatalf("provider down under %s: reached %v (%d), want %v", tt.mode, ok, w.Code, tt.keeps)
			}
			if !tt.keeps && (w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "cannot be reached")) {
				t.Fatalf("secure: %d\n%s", w.Code, w.Body)
			}
			if !tt.keeps {
				// An API client gets the same refusal as JSON, from the
				// same error writer.
				w, _ := b.getAs("/app", "application/json")
				var body web.JSONError
				if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
					json.Unmarshal(w.Body.Bytes(), &body) != nil || body.Code != "provider_unreachable" || !strings.Contains(body.Error, "cannot be reached") {
					t.Fatalf("secure, API client: %d %v\n%s", w.Code, w.Header(), w.Body)
				}
			}
			// Back up: the session is checked and carries on.
			sw.down.Store(false)
			g.advance(2 * time.Minute)
			if _, ok := b.reaches(); !ok {
				t.Fatal("session lost once the provider is back")
			}
		})
	}
}

func TestOIDCRevalidateChecksOnceForConcurrentRequests(t *testing.T) {
	t.Parallel()
	sw := refreshSwitch{hold: make(chan struct{})}
	p := startProvider(t, "", sw.middleware)
	g := newRevalidateGate(t, p, FailSecure)
	b := g.browser(t)
	b.signIn(revalidateUser)
	g.advance(11 * time.Minute)

	cookies := b.cookies
	var wg sync.WaitGroup
	var reached atomic.Int32
	for range 10 {
		wg.Go(func() {
			r := httptest.NewRequest(http.MethodGet, "https://gate.example.test/app", nil)
			for name, value := range cookies {
				r.AddCookie(&http.Cookie{Name: name, Value: value})
			}
			if _, handled := g.Authenticate(httptest.NewRecorder(), r); !handled {
				reached.Add(1)
			}
		})
	}
	// Let the one refresh through once every request is waiting on it.
	deadline := time.Now().Add(10 * time.Second)
	for sw.refreshes.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	close(sw.hold)
	wg.Wait()
	if n := sw.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes for one session's concurrent requests, want 1", n)
	}
	if reached.Load() != 10 {
		t.Fatalf("%d of 10 requests reached the application", reached.Load())
	}
}

func TestOIDCRevalidateChecksSessionsFromBeforeItWasTurnedOn(t *testing.T) {
	t.Parallel()
	var sw refreshSwitch
	p := startProvider(t, "", sw.middleware)
	g := newRevalidateGate(t, p, FailSecure)
	g.cfg.OIDCRevalidate = 0
	b := g.browser(t)
	b.signIn(revalidateUser)
	if _, ok := b.reaches(); !ok {
		t.Fatal("signed-in request refused")
	}
	// The operator turns revalidate on: the session carries no check time
	// and no refresh token, so the person goes through the provider again.
	g.cfg.OIDCRevalidate = 10 * time.Minute
	w, ok := b.reaches()
	if ok || w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.trustgate/login?") {
		t.Fatalf("old session: reached %v, %d to %q; want the login redirect", ok, w.Code, w.Header().Get("Location"))
	}
}
