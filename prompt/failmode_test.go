package prompt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

var errOutage = errors.New("connection refused")

// outageStore is a real SQLite store whose connection can be cut: while
// down, every call fails as an unreachable database's would.
type outageStore struct {
	Store
	down atomic.Bool
}

func (s *outageStore) err() error {
	if s.down.Load() {
		return errOutage
	}
	return nil
}

func (s *outageStore) AddFailure(ctx context.Context, key string, at time.Time) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.AddFailure(ctx, key, at)
}

func (s *outageStore) CountFailures(ctx context.Context, key string, since time.Time) (int, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.CountFailures(ctx, key, since)
}

func (s *outageStore) ClearFailures(ctx context.Context, key string) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.ClearFailures(ctx, key)
}

func (s *outageStore) AppendAuthLog(ctx context.Context, e store.AuthLogEntry) (int64, error) {
	if err := s.err(); err != nil {
		return 0, err
	}
	return s.Store.AppendAuthLog(ctx, e)
}

func (s *outageStore) CreateTransaction(ctx context.Context, t store.Transaction) error {
	if err := s.err(); err != nil {
		return err
	}
	return s.Store.CreateTransaction(ctx, t)
}

func (s *outageStore) Transaction(ctx context.Context, id string) (store.Transaction, error) {
	if err := s.err(); err != nil {
		return store.Transaction{}, err
	}
	return s.Store.Transaction(ctx, id)
}

func (s *outageStore) UserDevices(ctx context.Context, user string) ([]store.Device, error) {
	if err := s.err(); err != nil {
		return nil, err
	}
	return s.Store.UserDevices(ctx, user)
}

func (s *outageStore) Device(ctx context.Context, id string) (store.Device, error) {
	if err := s.err(); err != nil {
		return store.Device{}, err
	}
	return s.Store.Device(ctx, id)
}

func (s *outageStore) UseOnce(ctx context.Context, id string, expires time.Time) (bool, error) {
	if err := s.err(); err != nil {
		return false, err
	}
	return s.Store.UseOnce(ctx, id, expires)
}

// failGateway is a gate in front of a tiny upstream, with alice (in pilot)
// able to sign in, on a store whose connection the test can cut.
type failGateway struct {
	*httptest.Server
	st   *outageStore
	logs *observer.ObservedLogs
}

func newFailGateway(t *testing.T, mode policy.Mode, fail FailMode) *failGateway {
	t.Helper()
	sq, err := sqlitestore.Open(filepath.Join(t.TempDir(), "tg.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sq.Close() })
	st := &outageStore{Store: sq}
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("pw-alice"), bcrypt.MinCost)
	users, err := signin.ParseUsers([]byte(fmt.Sprintf(`{"users":[{"username":"alice","password_hash":%q,"groups":["pilot"]}]}`, hash)), ".json")
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := device.NewTrustCache(100, nil)
	core, logs := observer.New(zap.InfoLevel)
	g, err := NewGate(Config{
		Application: "legacy", Users: users, Store: st, Cookies: codec, FailMode: fail, Logger: zap.New(core),
		Device: &DeviceTrust{
			Policy: policy.Policy{Mode: mode, Integration: policy.Integration{State: policy.All}},
			Cache:  cache,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, handled := g.Authenticate(w, r); !handled {
			fmt.Fprintf(w, "upstream: %s trust=%s", s.User, s.Trust)
		}
	}))
	t.Cleanup(srv.Close)
	return &failGateway{Server: srv, st: st, logs: logs}
}

// phone is a browser on an Android phone that does not follow redirects.
type phone struct {
	t *testing.T
	c *http.Client
}

func newPhone(t *testing.T) *phone {
	jar, _ := cookiejar.New(nil)
	return &phone{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (p *phone) do(method, u string, form url.Values) (int, string, string) {
	p.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn posts alice's password and follows the gateway's redirects until
// a page that is not a redirect; it returns that page's status and body.
func (p *phone) signIn(base string) (int, string) {
	p.t.Helper()
	_, _, page := p.do(http.MethodGet, base+"/.trustgate/login?return=/app", nil)
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		p.t.Fatalf("no login form:\n%s", page)
	}
	status, loc, body := p.do(http.MethodPost, base+"/.trustgate/login", url.Values{"csrf": {m[1]}, "username": {"alice"}, "password": {"pw-alice"}})
	for i := 0; i < 5 && loc != ""; i++ {
		status, loc, body = p.do(http.MethodGet, base+loc, nil)
	}
	return status, body
}

func TestFailModeSecureRefusesNewSignInsUntilStorageReturns(t *testing.T) {
	t.Parallel()
	gw := newFailGateway(t, policy.ModeBlock, "")
	gw.st.down.Store(true)
	status, body := newPhone(t).signIn(gw.URL)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "temporarily unavailable") {
		t.Fatalf("sign-in with storage down: %d\n%s", status, body)
	}
	// API clients get 503 JSON from the device API.
	resp, err := http.Post(gw.URL+"/.trustgate/device/v1/pushes/x", "application/json", strings.NewReader(`{"answer":"approve"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("device API with storage down: %d", resp.StatusCode)
	}
	// Storage returns: the next sign-in reaches the prompt, no restart.
	gw.st.down.Store(false)
	if status, body := newPhone(t).signIn(gw.URL); status != http.StatusOK || !strings.Contains(body, `id="open-app"`) {
		t.Fatalf("sign-in after recovery: %d\n%s", status, body)
	}
}

func TestFailModesSafeAndCheckLetPeopleIn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode policy.Mode
		fail FailMode
	}{
		{policy.ModeBlock, FailSafe},
		{policy.ModeBlock, FailCheck},
		{policy.ModeCheck, ""}, // check is the default in mode check
	} {
		t.Run(string(tc.mode)+"/"+string(tc.fail), func(t *testing.T) {
			gw := newFailGateway(t, tc.mode, tc.fail)
			gw.st.down.Store(true)
			p := newPhone(t)
			status, body := p.signIn(gw.URL)
			if status != http.StatusOK || !strings.Contains(body, "upstream: alice trust=unknown") {
				t.Fatalf("sign-in with storage down: %d\n%s", status, body)
			}
			if n := gw.logs.FilterMessage("storage unreachable: signing in without it").Len(); n == 0 {
				t.Error("the degraded sign-in was not logged")
			}
			entries := gw.logs.FilterMessage("writing auth log").All()
			if len(entries) == 0 {
				t.Fatal("the unwritable auth-log entry was not logged")
			}
			fields := entries[len(entries)-1].ContextMap()
			if fields["result"] != "success" || fields["user"] != "alice" {
				t.Errorf("logged entry: %v", fields)
			}
			// The degraded session is checked again once storage is back
			// and its short trust has run out; until then it works.
			if status, _, body := p.do(http.MethodGet, gw.URL+"/app", nil); status != http.StatusOK {
				t.Errorf("degraded session: %d %s", status, body)
			}
		})
	}
}

func TestFailModeKeepsValidSessionsWorking(t *testing.T) {
	t.Parallel()
	gw := newFailGateway(t, policy.ModeCheck, FailSecure)
	p := newPhone(t)
	// Sign in while storage is up: in mode check, with no app, continue
	// without a check.
	status, body := p.signIn(gw.URL)
	m := csrfInput.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("prompt: %d\n%s", status, body)
	}
	if status, loc, _ := p.do(http.MethodPost, gw.URL+"/.trustgate/verify/skip", url.Values{"csrf": {m[1]}}); status != http.StatusSeeOther || loc != "/app" {
		t.Fatalf("skip: %d %q", status, loc)
	}
	gw.st.down.Store(true)
	for i := 0; i < 3; i++ {
		if status, _, body := p.do(http.MethodGet, gw.URL+"/app", nil); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
			t.Fatalf("signed-in request %d with storage down: %d %s", i, status, body)
		}
	}
}

// The would_block flag of a degraded sign-in, as the auth-log line shows it.
func TestFailModeCheckMarksWouldBlock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fail FailMode
		want bool
	}{{FailCheck, true}, {FailSafe, false}} {
		gw := newFailGateway(t, policy.ModeBlock, tc.fail)
		gw.st.down.Store(true)
		newPhone(t).signIn(gw.URL)
		entries := gw.logs.FilterMessage("writing auth log").All()
		if len(entries) == 0 {
			t.Fatalf("%s: no auth-log line for the degraded sign-in", tc.fail)
		}
		raw, _ := json.Marshal(entries[len(entries)-1].ContextMap())
		if got := strings.Contains(string(raw), `"would_block":true`); got != tc.want {
			t.Errorf("%s: would_block in the log = %v, want %v (%s)", tc.fail, got, tc.want, raw)
		}
	}
}
