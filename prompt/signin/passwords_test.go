package signin

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// failures is an in-memory FailureCounter; err, when set, fails every
// call.
type failures struct {
	mu  sync.Mutex
	at  map[string][]time.Time
	err error
}

func (f *failures) AddFailure(_ context.Context, key string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	if f.at == nil {
		f.at = map[string][]time.Time{}
	}
	f.at[key] = append(f.at[key], at)
	return nil
}

func (f *failures) CountFailures(_ context.Context, key string, since time.Time) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	n := 0
	for _, at := range f.at[key] {
		if !at.Before(since) {
			n++
		}
	}
	return n, nil
}

func newPasswords(t *testing.T, counter FailureCounter) *Passwords {
	t.Helper()
	users, err := ParseUsers([]byte(`{"users":[{"username":"alice","password_hash":"`+bcryptDemoHash+`"}]}`), ".json")
	if err != nil {
		t.Fatal(err)
	}
	return &Passwords{Users: users, Failures: counter, Attempts: 3, Window: time.Minute, Now: time.Now, Logger: zap.NewNop()}
}

func noOutage(string, error) bool { return false }

func TestPasswordLockoutCountsOnlyFailures(t *testing.T) {
	counter := &failures{}
	p := newPasswords(t, counter)
	alice := PasswordAttempt{Username: "alice", Password: "trustgate-demo", ClientIP: "192.0.2.1"}
	for range 5 {
		if id, err := p.SignIn(t.Context(), alice, noOutage); err != nil || id.User != "alice" {
			t.Fatalf("correct sign-in = %+v, %v", id, err)
		}
	}
	if n, _ := counter.CountFailures(t.Context(), "login:alice|192.0.2.1", time.Time{}); n != 0 {
		t.Fatalf("correct sign-ins counted %d failures, want none", n)
	}
	wrong, unknown := alice, alice
	wrong.Password, unknown.Username = "guess", "mallory"
	if _, err := p.SignIn(t.Context(), unknown, noOutage); ReasonOf(err, "") != ReasonUnknownUser {
		t.Fatalf("unknown user: %v, want %s", err, ReasonUnknownUser)
	}
	for range 3 {
		if _, err := p.SignIn(t.Context(), wrong, noOutage); ReasonOf(err, "") != ReasonInvalidPassword {
			t.Fatalf("wrong password: %v, want %s", err, ReasonInvalidPassword)
		}
	}
	if _, err := p.SignIn(t.Context(), alice, noOutage); ReasonOf(err, "") != ReasonLockedOut {
		t.Fatalf("correct password after 3 failures: %v, want %s", err, ReasonLockedOut)
	}
	other := alice
	other.ClientIP = "192.0.2.2"
	if _, err := p.SignIn(t.Context(), other, noOutage); err != nil {
		t.Fatalf("the same user from another address: %v, want signed in", err)
	}
}

func TestPasswordSignInFollowsOutageWhenStoreFails(t *testing.T) {
	down := errors.New("store down")
	p := newPasswords(t, &failures{err: down})
	alice := PasswordAttempt{Username: "alice", Password: "trustgate-demo", ClientIP: "192.0.2.1"}
	var steps []string
	_, err := p.SignIn(t.Context(), alice, func(step string, err error) bool {
		steps = append(steps, step)
		return false
	})
	if !errors.Is(err, down) || ReasonOf(err, "") != "" {
		t.Fatalf("store down, outage gives up: %v, want the store's error", err)
	}
	if len(steps) != 1 || steps[0] != "counting login attempts" {
		t.Fatalf("outage asked for %q, want counting login attempts", steps)
	}
	if id, err := p.SignIn(t.Context(), alice, func(string, error) bool { return true }); err != nil || id.User != "alice" {
		t.Fatalf("store down, outage goes on: %+v, %v, want signed in", id, err)
	}
}
