package caddymodule

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// forwardingTransport adds X-Forwarded-For to every request, as a load
// balancer in front of the gateway would.
type forwardingTransport struct{ forwardedFor string }

func (f forwardingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", f.forwardedFor)
	return http.DefaultTransport.RoundTrip(req)
}

// browserBehind is a browser whose requests reach the gateway through a
// proxy that names forwardedFor as the client.
func browserBehind(t *testing.T, forwardedFor string) *browser {
	b := newBrowser(t)
	b.client.Transport = forwardingTransport{forwardedFor: forwardedFor}
	return b
}

// postLogin posts the login form like submitLogin, but may run on any
// goroutine: it returns an error instead of failing the test.
func (b *browser) postLogin(csrf, user, password string) (int, error) {
	form := url.Values{"csrf": {csrf}, "username": {user}, "password": {password}}
	req, err := http.NewRequest(http.MethodPost, gateURL+"/.trustgate/login", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// authLogReasons counts the auth log's rows by result/reason.
func authLogReasons(t *testing.T) map[string]int {
	t.Helper()
	reasons := map[string]int{}
	for _, e := range authLog(t, "limit=1000") {
		reasons[e.Result+"/"+e.Reason]++
	}
	return reasons
}

// Many correct sign-ins for one person from one address at once (everyone
// behind one load balancer) all succeed, while wrong passwords sent beside
// them are still counted: only failures count towards the lockout.
func TestParallelCorrectSignInsAreNeverLockedOut(t *testing.T) {
	up := newUpstream(t)
	startGateway(t, globalOptions(storePath(t), "")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
		lockout 5 15m
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), up.hostPort()))

	const correct, wrong = 20, 4 // wrong stays below the limit: no correct one may be refused
	type attempt struct {
		b        *browser
		csrf     string
		password string
	}
	var attempts []attempt
	for i := range correct + wrong {
		b := newBrowser(t)
		a := attempt{b: b, csrf: b.openLoginForm("/"), password: gatetest.Users["alice"].Password}
		if i >= correct {
			a.password = fmt.Sprintf("wrong guess %d", i)
		}
		attempts = append(attempts, a)
	}
	statuses := make([]int, len(attempts))
	errs := make([]error, len(attempts))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, a := range attempts {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = a.b.postLogin(a.csrf, "alice", a.password)
		})
	}
	close(start)
	wg.Wait()
	for i := range attempts {
		want := http.StatusSeeOther
		if i >= correct {
			want = http.StatusUnauthorized
		}
		if errs[i] != nil || statuses[i] != want {
			t.Errorf("attempt %d (correct=%v): status %d, error %v; want %d", i, i < correct, statuses[i], errs[i], want)
		}
		if i < correct && attempts[i].b.sessionCookie() == "" {
			t.Errorf("correct attempt %d got no session", i)
		}
	}

	// The wrong ones were counted: a fifth reaches the limit, and then even
	// the right password is refused.
	b := newBrowser(t)
	csrf := b.openLoginForm("/")
	if r := b.submitLogin(csrf, "alice", "fifth wrong guess"); r.status != http.StatusUnauthorized {
		t.Fatalf("fifth wrong password: %d, want 401", r.status)
	}
	if r := b.submitLogin(csrf, "alice", "sixth wrong guess"); r.status != http.StatusTooManyRequests {
		t.Fatalf("sixth wrong password: %d, want 429", r.status)
	}
	if r := b.submitLogin(csrf, "alice", gatetest.Users["alice"].Password); r.status != http.StatusTooManyRequests {
		t.Fatalf("right password during the lockout: %d, want 429", r.status)
	}

	got := authLogReasons(t)
	want := map[string]int{"success/valid_password": correct, "denied/invalid_password": wrong + 1, "denied/locked_out": 2}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("auth log has %d %s rows, want %d (all: %v)", got[k], k, n, got)
		}
	}
}

// Guesses sent all at once are checked one at a time per user and
// address, so they cannot all pass the lockout check before the first is
// counted: no more than the limit get an answer about the password.
func TestParallelGuessesStopAtTheLimit(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "") // lockout 3 15m

	const guesses = 20
	var browsers []*browser
	var csrfs []string
	for range guesses {
		b := newBrowser(t)
		browsers = append(browsers, b)
		csrfs = append(csrfs, b.openLoginForm("/"))
	}
	statuses := make([]int, guesses)
	errs := make([]error, guesses)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, b := range browsers {
		wg.Go(func() {
			<-start
			statuses[i], errs[i] = b.postLogin(csrfs[i], "alice", fmt.Sprintf("guess %d", i))
		})
	}
	close(start)
	wg.Wait()
	counts := map[int]int{}
	for i := range guesses {
		if errs[i] != nil {
			t.Fatalf("guess %d: %v", i, errs[i])
		}
		counts[statuses[i]]++
	}
	if counts[http.StatusUnauthorized] != 3 || counts[http.StatusTooManyRequests] != guesses-3 {
		t.Errorf("%d parallel guesses under lockout 3: statuses %v, want 3 × 401 and the rest 429", guesses, counts)
	}
}

// Behind a trusted proxy the lockout counts per client, by the address
// the proxy forwards: one client locked out does not lock out the next.
func TestLockoutUsesTrustedProxyClientAddress(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "trusted_proxies static 127.0.0.1/8") // lockout 3 15m

	a := browserBehind(t, "198.51.100.7")
	csrf := a.openLoginForm("/")
	for i := range 3 {
		if r := a.submitLogin(csrf, "alice", fmt.Sprintf("guess %d", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("client A, wrong password %d: %d, want 401", i+1, r.status)
		}
	}
	if r := a.submitLogin(csrf, "alice", gatetest.Users["alice"].Password); r.status != http.StatusTooManyRequests {
		t.Fatalf("client A after 3 failures: %d, want 429", r.status)
	}

	b := browserBehind(t, "203.0.113.9")
	if loc := b.login("alice", gatetest.Users["alice"].Password, "/"); loc != "/" {
		t.Fatalf("client B: redirected to %q", loc)
	}
	if b.sessionCookie() == "" {
		t.Fatal("client B, behind the same proxy, was locked out with client A")
	}

	// The auth log names each client, not the proxy.
	ips := map[string]string{}
	for _, e := range authLog(t, "") {
		ips[e.Result+"/"+e.Reason] = e.IP
	}
	if ips["denied/locked_out"] != "198.51.100.7" || ips["success/valid_password"] != "203.0.113.9" {
		t.Errorf("auth log addresses = %v, want client A's on locked_out and client B's on valid_password", ips)
	}
}

// Without trusted_proxies, X-Forwarded-For is the client's own claim and
// is ignored: changing it does not dodge a lockout.
func TestForwardedForIsIgnoredWithoutTrustedProxies(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "") // lockout 3 15m

	for i := range 3 {
		b := browserBehind(t, fmt.Sprintf("198.51.100.%d", i+1))
		if r := b.submitLogin(b.openLoginForm("/"), "alice", fmt.Sprintf("guess %d", i)); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, r.status)
		}
	}
	b := browserBehind(t, "203.0.113.9")
	if r := b.submitLogin(b.openLoginForm("/"), "alice", gatetest.Users["alice"].Password); r.status != http.StatusTooManyRequests {
		t.Fatalf("right password with a new X-Forwarded-For after 3 failures: %d, want 429", r.status)
	}
	for _, e := range authLog(t, "") {
		if e.IP != "127.0.0.1" {
			t.Errorf("auth log row %s/%s has IP %q, want the connection's 127.0.0.1", e.Result, e.Reason, e.IP)
		}
	}
}

// The device API's per-address rate limit counts each client behind a
// trusted proxy on its own, and a client outside trusted_proxies cannot
// pick its address with X-Forwarded-For.
func TestDeviceAPIRateLimitUsesTrustedProxyClientAddress(t *testing.T) {
	up := newUpstream(t)
	startGateway(t, globalOptionsWithServers(storePath(t), "", "trusted_proxies static 127.0.0.1/8")+fmt.Sprintf(`
http://localhost:%d {
	trusted_endpoints {
		login users_file %s
		mode check
		%s
		limits {
			ip 1/m burst 2
		}
	}
	reverse_proxy %s
}
`, httpPort, gatetest.WriteUsersFile(t), pilotMobile, up.hostPort()))

	call := func(forwardedFor string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, gateURL+protocol.PathDevice, nil)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-Forwarded-For", forwardedFor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 2 {
		if status := call("198.51.100.7"); status == http.StatusTooManyRequests {
			t.Fatalf("client A, call %d: 429 within the burst", i+1)
		}
	}
	if status := call("198.51.100.7"); status != http.StatusTooManyRequests {
		t.Fatalf("client A, 3rd call: %d, want 429", status)
	}
	if status := call("203.0.113.9"); status == http.StatusTooManyRequests {
		t.Fatal("client B, behind the same proxy, was rate limited with client A")
	}
}

// A guesser who half-closes the connection after each post (the server
// sees the request end, yet the answer can still be read) has every wrong
// guess that is answered counted all the same. (A guess whose request is
// seen to end before its check starts is not checked at all, and gets an
// empty answer.)
func TestHalfClosedGuessesAreStillCounted(t *testing.T) {
	up := newUpstream(t)
	usersGateway(t, up, "") // lockout 3 15m
	b := newBrowser(t)
	csrf := b.openLoginForm("/")
	u, _ := url.Parse(gateURL)
	guess := func(i int) int {
		t.Helper()
		form := url.Values{"csrf": {csrf}, "username": {"alice"}, "password": {fmt.Sprintf("guess %d", i)}}
		req, _ := http.NewRequest(http.MethodPost, gateURL+"/.trustgate/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Connection", "close")
		for _, c := range b.client.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if err := req.Write(conn); err != nil {
			t.Fatal(err)
		}
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), req)
		if err != nil {
			return 0 // nothing answered
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	answered, i := 0, 0
	for ; answered < 3; i++ {
		if i == 30 {
			t.Fatalf("only %d of 30 half-closed guesses were answered", answered)
		}
		switch status := guess(i); status {
		case http.StatusUnauthorized:
			answered++
		case http.StatusTooManyRequests:
			t.Fatalf("half-closed guess %d: locked out after %d answered guesses, want 3", i+1, answered)
		}
	}
	for range 5 {
		if status := guess(i); status == http.StatusUnauthorized {
			t.Fatalf("half-closed guess %d answered 401 after 3 answered wrong guesses: they were not counted", i+1)
		}
		i++
	}
	if r := b.submitLogin(csrf, "alice", gatetest.Users["alice"].Password); r.status != http.StatusTooManyRequests {
		t.Fatalf("right password after 3 answered half-closed guesses: %d, want 429", r.status)
	}
}
