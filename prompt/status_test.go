package prompt

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/trustgate/trustgate/policy"
)

// pollStatus is the waiting page's poll of its check's status.
func (p *phone) pollStatus(base string) (*http.Response, status) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+pathStatus, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var s status
	if err := json.Unmarshal(body, &s); err != nil {
		p.t.Fatalf("status poll answered %d with %q: %v", resp.StatusCode, body, err)
	}
	return resp, s
}

// A storage failure while the page polls its status (an outage, or a read
// that timed out under load) is "try again later", never "expired": the
// page keeps waiting, and the check goes on once the store answers again.
func TestStoreFailureDuringStatusPollIsRetryableNotExpired(t *testing.T) {
	t.Parallel()
	for _, fail := range []FailMode{FailSecure, FailSafe, FailCheck} {
		t.Run(string(fail), func(t *testing.T) {
			gw := newFailGateway(t, policy.ModeBlock, fail)
			p := newPhone(t)
			if code, body := p.signIn(gw.URL); code != http.StatusOK || !strings.Contains(body, `id="tg-status"`) {
				t.Fatalf("prompt: %d\n%s", code, body)
			}
			if resp, s := p.pollStatus(gw.URL); resp.StatusCode != http.StatusOK || s.State != "waiting" {
				t.Fatalf("status before the outage: %d %+v", resp.StatusCode, s)
			}

			gw.st.down.Store(true)
			resp, s := p.pollStatus(gw.URL)
			if resp.StatusCode != http.StatusServiceUnavailable || s.State != stateUnavailable || s.Next != "" {
				t.Errorf("status with storage down: %d %+v, want 503 %q with nowhere to go", resp.StatusCode, s, stateUnavailable)
			}
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || n < 1 {
				t.Errorf("status with storage down: Retry-After %q, want whole seconds", resp.Header.Get("Retry-After"))
			}

			gw.st.down.Store(false)
			if resp, s := p.pollStatus(gw.URL); resp.StatusCode != http.StatusOK || s.State != "waiting" {
				t.Errorf("status after the outage: %d %+v, want the same check still waiting", resp.StatusCode, s)
			}
		})
	}
}

// checkStatus says "expired" only for a check that is really gone, and
// fails, for the caller to answer "try again", when the store does.
func TestCheckStatusExpiresOnlyChecksThatAreGone(t *testing.T) {
	t.Parallel()
	d := newDeviceGate(t, policy.Requirements{})
	st := &outageStore{Store: d.gate.cfg.Store}
	d.gate.cfg.Store = st
	d.rewire()
	for _, c := range []struct {
		name      string
		pending   pendingLogin
		down      bool
		wantState string
		wantErr   bool
	}{
		{name: "no such check", pending: pendingLogin{Tx: "tx-gone"}, wantState: "expired"},
		{name: "no such check nor login request", pending: pendingLogin{Tx: "tx-gone", PushTx: "ptx-gone"}, wantState: "expired"},
		{name: "store down", pending: pendingLogin{Tx: "tx-gone"}, down: true, wantErr: true},
		{name: "store down reading the login request", pending: pendingLogin{Tx: "tx-gone", PushTx: "ptx-gone"}, down: true, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st.down.Store(c.down)
			p := c.pending
			p.User, p.Secret = "alice", "browser-secret"
			s, err := d.gate.checkStatus(t.Context(), &p)
			if (err != nil) != c.wantErr || s.State != c.wantState {
				t.Errorf("checkStatus = %+v, %v; want state %q, error %v", s, err, c.wantState, c.wantErr)
			}
		})
	}
}
