package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trustgate/trustgate/prompt/protocol"
)

// Guessing limits of the instances below: far lower than the defaults, so
// that a limit counted per instance (twice the total over two instances)
// shows.
const (
	guessLoginAttempts      = 4
	guessPasscodeAttempts   = 3
	guessActivationAttempts = 3
)

// startGuardedInstance runs one gateway instance on the shared database dsn
// with a device check and low guessing limits, serving any host name on
// its own port.
func startGuardedInstance(t *testing.T, env []string, root, dsn, usersPath string) *instance {
	t.Helper()
	port, adminPort := freePort(t), freePort(t)
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	trusted_endpoints {
		storage postgres {env.TG_TEST_DSN}
	}
}

http://:%d {
	trusted_endpoints {
		application legacy
		login users_file %s
		lockout %d 15m
		mode check
		mobile {
			enable groups pilot
			require screen_lock
		}
		passcode_attempts   %d
		activation_attempts %d
	}
	respond "upstream: {http.request.header.X-Trustgate-User}"
}
`, adminPort, port, usersPath, guessLoginAttempts, guessPasscodeAttempts, guessActivationAttempts)
	path := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	gw := launch(t, append(env, "TG_TEST_DSN="+dsn), root, path, port)
	t.Cleanup(gw.stop)
	return &instance{gateway: gw, admin: fmt.Sprintf("http://localhost:%d", adminPort)}
}

// submit posts form to u as the browser's form would, and returns the
// status and page.
func (c *client) submit(u string, form url.Values) (int, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// Somebody guessing spreads the guesses over two instances behind a load
// balancer: the lockouts are counted in the shared store, so they lock
// out after the configured number of guesses in total, not per instance.
func TestBruteForceIsCountedAcrossInstances(t *testing.T) {
	dsn := testPostgres(t)
	env := isolatedEnv(t)
	root := repoRoot(t)
	usersPath := writePilotUsers(t, t.TempDir(), 3)
	a := startGuardedInstance(t, env, root, dsn, usersPath)
	b := startGuardedInstance(t, env, root, dsn, usersPath)
	instances := []*instance{a, b}

	t.Run("password", func(t *testing.T) {
		c := newClient(t)
		for i := range guessLoginAttempts {
			gw := instances[i%2]
			if status := c.login(gw.url, "user00", fmt.Sprintf("guess-%d", i)); status != http.StatusUnauthorized {
				t.Fatalf("wrong password %d on instance %d: %d, want 401", i+1, i%2, status)
			}
		}
		for i, gw := range instances {
			if status := c.login(gw.url, "user00", "pw"); status != http.StatusTooManyRequests {
				t.Errorf("right password on instance %d after %d guesses over both: %d, want 429", i, guessLoginAttempts, status)
			}
		}
	})

	t.Run("passcode", func(t *testing.T) {
		dev := activatedAgent(t, b.admin, b.url, "user01")
		c := newClient(t)
		c.ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
		if status := c.login(a.url, "user01", "pw"); status != http.StatusSeeOther {
			t.Fatalf("login: %d", status)
		}
		status, page := c.get(a.url + "/.trustgate/verify")
		m := csrfField.FindStringSubmatch(page)
		if status != http.StatusOK || m == nil {
			t.Fatalf("prompt: %d\n%s", status, page)
		}
		csrf := m[1]
		// A wrong code: none of the codes the gateway accepts now.
		now := time.Now()
		var valid []string
		for _, at := range []time.Time{now.Add(-time.Minute), now.Add(-30 * time.Second), now, now.Add(30 * time.Second), now.Add(time.Minute)} {
			code, err := dev.Passcode(at)
			if err != nil {
				t.Fatal(err)
			}
			valid = append(valid, code)
		}
		wrong := "000000"
		for n := 1; slices.Contains(valid, wrong); n++ {
			wrong = fmt.Sprintf("%06d", n)
		}
		for i := range guessPasscodeAttempts {
			gw := instances[i%2]
			status, page := c.submit(gw.url+"/.trustgate/verify/passcode", url.Values{"csrf": {csrf}, "passcode": {wrong}})
			if status != http.StatusUnauthorized {
				t.Fatalf("wrong passcode %d on instance %d: %d, want 401\n%s", i+1, i%2, status, page)
			}
		}
		right, err := dev.Passcode(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		gw := instances[guessPasscodeAttempts%2]
		if status, page := c.submit(gw.url+"/.trustgate/verify/passcode", url.Values{"csrf": {csrf}, "passcode": {right}}); status != http.StatusTooManyRequests {
			t.Errorf("right passcode after %d guesses over both instances: %d, want 429\n%s", guessPasscodeAttempts, status, page)
		}
	})

	t.Run("activation code", func(t *testing.T) {
		activate := func(gw *instance, code string) (int, string) {
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			body, _ := json.Marshal(protocol.ActivateRequest{Code: code, Platform: "android", OSVersion: "14"})
			u, _ := url.Parse(gw.url + protocol.PathActivate)
			proof, err := protocol.SignProof(key, true, http.MethodPost, u, body, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e protocol.Error
			_ = json.NewDecoder(resp.Body).Decode(&e)
			return resp.StatusCode, e.Code
		}
		code := issueActivation(t, b.admin, "user02")
		for i := range guessActivationAttempts {
			gw := instances[i%2]
			if status, errCode := activate(gw, fmt.Sprintf("guess-%d", i)); status != http.StatusNotFound {
				t.Fatalf("wrong activation code %d on instance %d: %d %s, want 404", i+1, i%2, status, errCode)
			}
		}
		for i, gw := range instances {
			if status, errCode := activate(gw, code); status != http.StatusTooManyRequests || errCode != "too_many_requests" {
				t.Errorf("right activation code on instance %d after %d guesses over both: %d %s, want 429 too_many_requests", i, guessActivationAttempts, status, errCode)
			}
		}
	})
}
