package signin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/trustgate/trustgate/prompt/store"
)

// usedStates is an OIDCStore that remembers single-use IDs only; err,
// when set, fails UseOnce.
type usedStates struct {
	mu   sync.Mutex
	used map[string]bool
	err  error
}

func (u *usedStates) UseOnce(_ context.Context, id string, _ time.Time) (bool, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.err != nil {
		return false, u.err
	}
	if u.used == nil {
		u.used = map[string]bool{}
	}
	fresh := !u.used[id]
	u.used[id] = true
	return fresh, nil
}

func (u *usedStates) PutProviderSession(context.Context, store.ProviderSession) error { return nil }
func (u *usedStates) ProviderSession(context.Context, string) (store.ProviderSession, error) {
	return store.ProviderSession{}, store.ErrNotFound
}
func (u *usedStates) DeleteProviderSession(context.Context, string) error { return nil }

// TestOIDCRedeemBindsStateToTheBrowserAndUsesItOnce checks the callback's
// rules before any call to the provider: the state must be the one the
// browser's flow remembers, and is spent by its first use.
func TestOIDCRedeemBindsStateToTheBrowserAndUsesItOnce(t *testing.T) {
	st := &usedStates{}
	s := &OIDCSessions{Store: st, Now: time.Now, Logger: zap.NewNop()}
	started := &Started{State: "state-1", Nonce: "n", Verifier: "v"}
	// The provider's error keeps these calls from reaching the provider.
	cb := Callback{State: "state-1", Error: "access_denied", Started: started, Expires: time.Now().Add(time.Minute)}
	for _, tt := range []struct {
		name      string
		cb        Callback
		reason    string
		wantSpent bool
	}{
		{"no flow cookie", Callback{State: "state-1"}, ReasonInvalidState, false},
		{"another browser's state", Callback{State: "state-2", Started: started}, ReasonInvalidState, false},
		{"first use", cb, ReasonProviderError, true},
		{"replayed", cb, ReasonInvalidState, true},
	} {
		_, spent, err := s.Redeem(t.Context(), tt.cb, noOutage)
		if ReasonOf(err, "") != tt.reason || spent != tt.wantSpent {
			t.Errorf("%s: %v (spent %v), want %s (spent %v)", tt.name, err, spent, tt.reason, tt.wantSpent)
		}
	}
}

func TestOIDCRedeemFollowsOutageWhenStoreFails(t *testing.T) {
	down := errors.New("store down")
	s := &OIDCSessions{Store: &usedStates{err: down}, Now: time.Now, Logger: zap.NewNop()}
	cb := Callback{State: "s", Error: "access_denied", Started: &Started{State: "s"}, Expires: time.Now().Add(time.Minute)}
	_, spent, err := s.Redeem(t.Context(), cb, noOutage)
	if !errors.Is(err, down) || spent {
		t.Fatalf("store down, outage gives up: %v (spent %v), want the store's error, flow kept", err, spent)
	}
	_, spent, err = s.Redeem(t.Context(), cb, func(step string, _ error) bool { return step == "consuming OIDC state" })
	if ReasonOf(err, "") != ReasonProviderError || !spent {
		t.Fatalf("store down, outage goes on: %v (spent %v), want the provider's error", err, spent)
	}
}
