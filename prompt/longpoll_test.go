package prompt

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/deviceapi"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// pushReadCounter counts a store's reads of pending login requests.
type pushReadCounter struct {
	Store
	reads atomic.Int64
}

func (s *pushReadCounter) PendingPushes(ctx context.Context, deviceID string, now time.Time) ([]store.Push, error) {
	s.reads.Add(1)
	return s.Store.PendingPushes(ctx, deviceID, now)
}

// A held long-poll waits for the Waker, not on the store: it looks once
// when it starts, not every second, and not again when its wait runs out
// (the device's next long-poll looks as it starts), so thousands of
// waiting devices cost no store queries while they wait. The process's
// exit is still asked about every second (the Exiting test).
func TestHeldLongPollDoesNotPollTheStore(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	st := &pushReadCounter{Store: d.gate.cfg.Store}
	d.gate.cfg.Store = st
	d.gate.cfg.Exiting = func() bool { return false }
	d.rewire()
	const wait = 3
	start := time.Now()
	w := d.longPoll(t, wait)
	if w.Code != http.StatusOK {
		t.Fatalf("long-poll: %d %s", w.Code, w.Body)
	}
	if held := time.Since(start); held < wait*time.Second-100*time.Millisecond {
		t.Errorf("long-poll held %s, want its whole %ds wait", held, wait)
	}
	if n := st.reads.Load(); n != 1 {
		t.Errorf("a long-poll held %ds read the store's login requests %d times, want once (as it started)", wait, n)
	}
}

// A held long-poll outlives the device API's body deadline. Under Caddy a
// GET's body is not http.NoBody, so the deadline is set on the long-poll's
// connection too; were it left there, it would cut the long-poll off (and
// cancel its context) once the body timeout passed.
func TestHeldLongPollOutlivesBodyDeadline(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	limits := deviceapi.DefaultLimits()
	limits.BodyTimeout = 500 * time.Millisecond
	limiter, err := deviceapi.NewLimiter(limits)
	if err != nil {
		t.Fatal(err)
	}
	d.gate.cfg.Limiter = limiter
	d.rewire()
	canceled := make(chan bool, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = io.NopCloser(r.Body) // as Caddy hands it on: not http.NoBody
		d.gate.Authenticate(w, r)
		canceled <- r.Context().Err() != nil
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL + protocol.PathPushes)
	proof, err := protocol.SignProof(d.key, false, http.MethodGet, u, nil, d.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, u.String()+"?wait=2", nil)
	req.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
	start := time.Now()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	held := time.Since(start)
	if resp.StatusCode != http.StatusOK || held < 2*time.Second-100*time.Millisecond {
		t.Errorf("long-poll answered %d after %s, want 200 after its whole 2s wait", resp.StatusCode, held.Round(time.Millisecond))
	}
	if <-canceled {
		t.Error("the held long-poll's context was cancelled")
	}
}
