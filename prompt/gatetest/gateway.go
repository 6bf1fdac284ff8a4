package gatetest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/inventory"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/session"
	"github.com/trustgate/trustgate/prompt/signin"
	"github.com/trustgate/trustgate/prompt/store"
	"github.com/trustgate/trustgate/prompt/store/sqlitestore"
)

// Application is the application name of every test gate.
const Application = "legacy"

// PilotPolicy is the device policy of most tests: people in the pilot
// group (alice, not bob) on iOS and Android must have a screen lock, an
// untampered phone and Android 14 or iOS 17.
func PilotPolicy(mode policy.Mode) policy.Policy {
	return policy.Policy{
		Mode: mode,
		Integration: policy.Integration{
			State: policy.Groups, Groups: []string{"pilot"},
			Platforms: []policy.Platform{policy.IOS, policy.Android},
		},
		Requirements: policy.Requirements{
			ScreenLock:  policy.Rule{Level: policy.Require},
			NotTampered: policy.Rule{Level: policy.Require},
			MinOS: policy.MinOS{Rule: policy.Rule{Level: policy.Require},
				Versions: map[policy.Platform]string{policy.Android: "14", policy.IOS: "17"}},
		},
	}
}

// Options configure a test gateway. The zero value is a gate with a users
// file and the device check of PilotPolicy in mode check.
type Options struct {
	// Mode is the device check's mode. Default: check. policy.ModeOff
	// builds a gate without a device check.
	Mode policy.Mode
	// Policy, when set, changes the policy (PilotPolicy of Mode) before
	// the gate is built.
	Policy func(*policy.Policy)
	// Device, when set, changes the device check's settings.
	Device func(*prompt.DeviceTrust)
	// Config, when set, changes the gate's configuration last.
	Config func(*prompt.Config)
	// TLS, when set, serves the gateway over HTTPS with this
	// configuration, under the test server's own certificate; set its
	// ClientAuth and ClientCAs to ask browsers for client certificates
	// (see ManagedTLS).
	TLS *tls.Config
}

// Gateway is a prompt.Gate served by an httptest.Server in front of an
// upstream that answers with what it received (see Upstream).
type Gateway struct {
	// URL is the gateway's origin, http://127.0.0.1:PORT (https with
	// Options.TLS).
	URL string
	// Gate is the gate, and Config the configuration it was built from.
	Gate   *prompt.Gate
	Config prompt.Config
	// Store is the gate's SQLite store.
	Store store.Store
	// Cache is the gate's trust cache; nil without a device check.
	Cache *device.TrustCache
	// Inventory is the gate's active inventory of managed devices, empty
	// until ActivateInventory; nil without a device check.
	Inventory *inventory.Active

	t      testing.TB
	server *httptest.Server

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when a poll arrives
	hits    int
	polls   []Poll
	reports map[string]json.RawMessage
}

// Poll is a device's GET of its login requests, as it reached the gateway.
type Poll struct {
	// Wait is the value of the wait query parameter ("" for none), and
	// RawQuery the whole query.
	Wait, RawQuery string
}

// New starts a test gateway; it is closed when the test ends.
func New(t testing.TB, o Options) *Gateway {
	t.Helper()
	st, err := sqlitestore.Open(filepath.Join(t.TempDir(), "trustgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg, cache := config(t, st, o)
	g, err := prompt.NewGate(cfg)
	if err != nil {
		t.Fatalf("building the gate: %v", err)
	}
	gw := &Gateway{Gate: g, Config: cfg, Store: st, Cache: cache, t: t, changed: make(chan struct{}), reports: map[string]json.RawMessage{}}
	if cfg.Device != nil {
		gw.Inventory = cfg.Device.Inventory
	}
	gw.server = httptest.NewUnstartedServer(http.HandlerFunc(gw.serve))
	if o.TLS != nil {
		gw.server.TLS = o.TLS
		gw.server.StartTLS()
	} else {
		gw.server.Start()
	}
	t.Cleanup(gw.server.Close)
	gw.URL = gw.server.URL
	return gw
}

// config builds the gate's configuration for o.
func config(t testing.TB, st store.Store, o Options) (prompt.Config, *device.TrustCache) {
	t.Helper()
	codec, err := session.NewCookieCodec([]store.CookieKey{session.NewCookieKey(time.Now())}, nil)
	if err != nil {
		t.Fatal(err)
	}
	users, err := signin.LoadUsersFile(WriteUsersFile(t))
	if err != nil {
		t.Fatal(err)
	}
	limiter, err := deviceapi.NewLimiter(deviceapi.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := prompt.Config{
		Application: Application, Users: users, Store: st, Cookies: codec,
		Headers: prompt.DefaultIdentityHeaders(), Limiter: limiter,
	}
	var cache *device.TrustCache
	if mode := o.Mode; mode != policy.ModeOff {
		if mode == "" {
			mode = policy.ModeCheck
		}
		if cache, err = device.NewTrustCache(1000, nil); err != nil {
			t.Fatal(err)
		}
		pol := PilotPolicy(mode)
		if o.Policy != nil {
			o.Policy(&pol)
		}
		cfg.Device = &prompt.DeviceTrust{Policy: pol, Cache: cache, Inventory: &inventory.Active{}}
		if o.Device != nil {
			o.Device(cfg.Device)
		}
	}
	if o.Config != nil {
		o.Config(&cfg)
	}
	return cfg, cache
}

// serve puts the gate in front of the upstream, noting the device's push
// long-polls and health reports on the way.
func (gw *Gateway) serve(w http.ResponseWriter, r *http.Request) {
	gw.note(r)
	if _, handled := gw.Gate.Authenticate(w, r); handled {
		return
	}
	gw.mu.Lock()
	gw.hits++
	gw.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(Upstream{Path: r.URL.Path, Headers: r.Header})
}

// note records a push long-poll, or the facts of a health report as the
// device sent them.
func (gw *Gateway) note(r *http.Request) {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	switch tx, isReport := strings.CutPrefix(r.URL.Path, protocol.PathReportPrefix); {
	case r.Method == http.MethodGet && r.URL.Path == protocol.PathPushes:
		gw.polls = append(gw.polls, Poll{Wait: r.URL.Query().Get("wait"), RawQuery: r.URL.RawQuery})
		close(gw.changed)
		gw.changed = make(chan struct{})
	case r.Method == http.MethodPost && isReport && strings.HasSuffix(tx, "/report"):
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req protocol.ReportRequest
		if err == nil && json.Unmarshal(body, &req) == nil {
			gw.reports[strings.TrimSuffix(tx, "/report")] = req.Facts
		}
	}
}

// Reported returns the facts of the last health report sent for the
// transaction tx, as the device sent them (not as the gate stored them);
// nil when none was sent.
func (gw *Gateway) Reported(tx string) json.RawMessage {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return gw.reports[tx]
}

// Upstream is what the upstream answers: the request it got.
type Upstream struct {
	Path    string              `json:"path"`
	Headers map[string][]string `json:"headers"`
}

// Hits returns how many requests reached the upstream.
func (gw *Gateway) Hits() int {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return gw.hits
}

// Polls returns the push long-polls that have reached the gateway, in
// order.
func (gw *Gateway) Polls() []Poll {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return append([]Poll(nil), gw.polls...)
}

// WaitPolls waits until n push long-polls have reached the gateway, or
// ctx ends. The gate registers a long-poll before it reads the store, so
// a login request sent once WaitPolls returns wakes the poll.
func (gw *Gateway) WaitPolls(ctx context.Context, n int) error {
	for {
		gw.mu.Lock()
		got, changed := len(gw.polls), gw.changed
		gw.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
