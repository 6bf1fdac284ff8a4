package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// Correct sign-ins for one person from one address, spread over two
// instances on one database, all succeed however many run at once, while
// the wrong ones sent beside them are counted across both.
func TestParallelCorrectSignInsAcrossInstancesAreNeverLockedOut(t *testing.T) {
	dsn := testPostgres(t)
	env := isolatedEnv(t)
	root := repoRoot(t)
	usersPath := writePilotUsers(t, t.TempDir(), 1)
	a := startGuardedInstance(t, env, root, dsn, usersPath)
	b := startGuardedInstance(t, env, root, dsn, usersPath)
	instances := []*instance{a, b}

	const correct, wrong = 20, guessLoginAttempts - 1 // below the limit: no correct one may be refused
	statuses := make([]int, correct+wrong)
	var wg sync.WaitGroup
	for i := range statuses {
		password := "pw"
		if i >= correct {
			password = fmt.Sprintf("guess-%d", i)
		}
		c := newClient(t)
		wg.Go(func() { statuses[i] = c.tryLogin(instances[i%2].url, "user00", password) })
	}
	wg.Wait()
	for i, status := range statuses {
		want := http.StatusSeeOther
		if i >= correct {
			want = http.StatusUnauthorized
		}
		if status != want {
			t.Errorf("sign-in %d (correct=%v) on instance %d: %d, want %d", i, i < correct, i%2, status, want)
		}
	}

	c := newClient(t)
	if status := c.login(a.url, "user00", "last-guess"); status != http.StatusUnauthorized {
		t.Fatalf("wrong password %d: %d, want 401", guessLoginAttempts, status)
	}
	for i, gw := range instances {
		if status := c.login(gw.url, "user00", "pw"); status != http.StatusTooManyRequests {
			t.Errorf("right password on instance %d after %d wrong ones over both: %d, want 429", i, guessLoginAttempts, status)
		}
	}
}
