package prompt

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
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

// recordingObserver remembers every call, as one line each.
type recordingObserver struct {
	mu     sync.Mutex
	events []string
	logins []store.AuthLogEntry
}

func (o *recordingObserver) add(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.events = append(o.events, fmt.Sprintf(format, args...))
}

func (o *recordingObserver) LoginRecorded(e store.AuthLogEntry) {
	o.mu.Lock()
	o.logins = append(o.logins, e)
	o.mu.Unlock()
	o.add("login %s %s %s", e.Result, e.Reason, e.Factor)
}

func (o *recordingObserver) VerificationStarted(id string, expires time.Time) {
	o.add("started")
}

func (o *recordingObserver) VerificationFinished(id string, took time.Duration, result string) {
	o.add("finished %s", result)
}

func (o *recordingObserver) PushOutcome(outcome string) { o.add("push %s", outcome) }
func (o *recordingObserver) StoreFailed(op string)      { o.add("store_failed %s", op) }
func (o *recordingObserver) FailModeActivated(m string) { o.add("fail_mode %s", m) }

// take returns the events so far and forgets them.
func (o *recordingObserver) take() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	ev := o.events
	o.events = nil
	return ev
}

// newObservedGateway is newFailGateway with obs as the gate's Observer.
func newObservedGateway(t *testing.T, mode policy.Mode, fail FailMode, obs Observer) *failGateway {
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
	users, err := signin.ParseUsers([]byte(fmt.Sprintf(`{"users":[{"username":"alice","password_hash":%q,"email":"alice@example.com","groups":["pilot"]}]}`, hash)), ".json")
	if err != nil {
		t.Fatal(err)
	}
	cache, _ := device.NewTrustCache(100, nil)
	core, logs := observer.New(zap.InfoLevel)
	cfg := Config{
		Application: "legacy", Users: users, Store: st, Cookies: codec, FailMode: fail, Logger: zap.New(core),
		Observer: obs,
	}
	if mode != policy.ModeOff {
		cfg.Device = &DeviceTrust{
			Policy: policy.Policy{Mode: mode, Integration: policy.Integration{State: policy.All}},
			Cache:  cache,
		}
	}
	g, err := NewGate(cfg)
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

func TestObserverSeesFailModeActivationsAndRecovery(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode policy.Mode
		fail FailMode
		// want are the observer's events for one sign-in with storage
		// down: each step that found it unreachable.
		want []string
	}{
		{policy.ModeBlock, FailSecure, []string{
			"store_failed counting_login_attempts", "fail_mode secure",
		}},
		{policy.ModeBlock, FailSafe, []string{
			"store_failed counting_login_attempts", "fail_mode safe",
			"store_failed starting_device_check", "fail_mode safe",
			"store_failed recording_login", "fail_mode safe",
		}},
		{policy.ModeCheck, FailCheck, []string{
			"store_failed counting_login_attempts", "fail_mode check",
			"store_failed starting_device_check", "fail_mode check",
			"store_failed recording_login", "fail_mode check",
		}},
	} {
		t.Run(string(tc.fail), func(t *testing.T) {
			obs := new(recordingObserver)
			gw := newObservedGateway(t, tc.mode, tc.fail, obs)
			gw.st.down.Store(true)
			newPhone(t).signIn(gw.URL)
			if got := obs.take(); !slices.Equal(got, tc.want) {
				t.Errorf("events with storage down:\n got %q\nwant %q", got, tc.want)
			}
			// Storage returns: the next sign-in stores its device check,
			// which is what ends the degraded state, and no fail mode
			// acts.
			gw.st.down.Store(false)
			newPhone(t).signIn(gw.URL)
			if got, want := obs.take(), []string{"started"}; !slices.Equal(got, want) {
				t.Errorf("events after recovery: %q, want %q", got, want)
			}
		})
	}
}

func TestObserverCountsLoginsOnlyOnceDurable(t *testing.T) {
	t.Parallel()
	obs := new(recordingObserver)
	gw := newObservedGateway(t, policy.ModeOff, FailSafe, obs)
	newPhone(t).signIn(gw.URL)
	if got, want := obs.take(), []string{"login success valid_password password"}; !slices.Equal(got, want) {
		t.Fatalf("events = %q, want %q", got, want)
	}
	if obs.logins[0].ID == 0 || obs.logins[0].Application != "legacy" {
		t.Errorf("observed entry = %+v, want its stored ID and application", obs.logins[0])
	}
	// A login whose entry cannot be written is let in (fail mode safe)
	// but is no auth-log row: the observer hears of the failure instead.
	gw.st.down.Store(true)
	newPhone(t).signIn(gw.URL)
	for _, e := range obs.take() {
		if strings.HasPrefix(e, "login ") {
			t.Errorf("an unwritten entry was counted as a login: %q", e)
		}
	}
}

func TestAuthLogEntryIsLoggedWithItsFields(t *testing.T) {
	t.Parallel()
	gw := newObservedGateway(t, policy.ModeOff, "", nil)
	if status, body := newPhone(t).signIn(gw.URL); status != http.StatusOK || !strings.Contains(body, "upstream: alice") {
		t.Fatalf("sign-in: %d %s", status, body)
	}
	entries := gw.logs.FilterMessage("login").All()
	if len(entries) != 1 {
		t.Fatalf("%d login log entries, want 1", len(entries))
	}
	if entries[0].Level != zap.InfoLevel {
		t.Errorf("level %s, want info", entries[0].Level)
	}
	fields := entries[0].ContextMap()
	want := map[string]any{
		"user": "alice", "email": "alice@example.com", "application": "legacy",
		"result": "success", "reason": "valid_password", "factor": "password", "trust_status": "unknown",
		"ip": "127.0.0.1",
	}
	for k, v := range want {
		if fields[k] != v {
			t.Errorf("field %s = %v, want %v", k, fields[k], v)
		}
	}
	if id, ok := fields["id"].(int64); !ok || id <= 0 {
		t.Errorf("field id = %v, want the entry's stored ID", fields["id"])
	}
	if ad, ok := fields["access_device"].(map[string]any); !ok || ad["kind"] != "android_phone" || ad["os"] != "Android" {
		t.Errorf("field access_device = %v", fields["access_device"])
	}
	if g, ok := fields["groups"].([]any); !ok || len(g) != 1 || g[0] != "pilot" {
		t.Errorf("field groups = %#v", fields["groups"])
	}
	raw, _ := json.Marshal(fields)
	if strings.Contains(string(raw), "pw-alice") {
		t.Errorf("the password reached the log: %s", raw)
	}
	// The stored row and the logged one are the same login.
	rows, err := gw.st.Store.(store.Store).QueryAuthLog(t.Context(), store.AuthLogQuery{User: "alice"})
	if err != nil || len(rows) != 1 || rows[0].ID != fields["id"] {
		t.Errorf("stored rows %+v (%v), logged id %v", rows, err, fields["id"])
	}
}
