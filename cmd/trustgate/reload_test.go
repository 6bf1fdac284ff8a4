package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// `caddy reload` with a real config change, twice, while signed-in people
// keep making requests, browsers wait on the prompt polling its status, and
// devices hold push long-polls: no session is dropped, every request gets
// an answer (but for the connection-level loss Caddy's listener switch can
// cause and a retry mends, see droppedBySwitch), the change shows, every
// long-poll held by the old configuration comes back at once with an
// empty list (which the device takes as "poll again", and does), and every
// pending verification completes afterwards, on every storage backend.
func TestReloadUnderTrafficKeepsSessionsAndPendingVerifications(t *testing.T) {
	for _, b := range storageBackends() {
		t.Run(b.name, func(t *testing.T) { reloadUnderTraffic(t, b) })
	}
}

// The people of the reload test, by what they are doing at reload time.
const (
	signedInPeople = 6 // signed in on a desktop, requesting pages non-stop
	inlinePeople   = 3 // phone browser on the prompt; the app reports after the reloads
	pollingPeople  = 3 // phone browser on the prompt; the app long-polls for a push sent after the reloads
	pushedPeople   = 2 // push sent before the reloads, answered after them
	// One more person uses the reference agent's listen command.
	reloadPeople = signedInPeople + inlinePeople + pollingPeople + pushedPeople + 1
)

// pollWait is the wait of the devices' long-polls: the most the API allows.
const pollWait = 30 * time.Second

func reloadUnderTraffic(t *testing.T, backend storageBackend) {
	dir := t.TempDir()
	storage, backendEnv := backend.option(t, dir)
	env := append(isolatedEnv(t), backendEnv...)
	gw := &reloadable{
		dir: dir, env: env, storage: storage,
		users: writePilotUsers(t, dir, reloadPeople),
		port:  freePort(t), adminPort: freePort(t),
		config: filepath.Join(dir, "Caddyfile"),
	}
	gw.write(t, 1)
	proc := launch(t, env, dir, gw.config, gw.port)
	defer func() {
		// Caddy's exit waits for connections that never carried a request
		// (the client dialled them for a request that then went on an idle
		// one) until they are 5 s old; hang them up first.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		proc.stop()
	}()
	base, admin := proc.url, fmt.Sprintf("http://localhost:%d", gw.adminPort)

	names := make(chan string, reloadPeople)
	for i := range reloadPeople {
		names <- fmt.Sprintf("user%02d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Signed in on a desktop (mode check lets it in, not trusted).
	traffic := &sessionTraffic{}
	var sessions []*client
	var sessionUsers []string
	for range signedInPeople {
		user := <-names
		c := newClient(t)
		c.ua = desktopUA
		if status := c.login(base, user, "pw"); status != http.StatusSeeOther {
			t.Fatalf("%s: login: %d", user, status)
		}
		sessions = append(sessions, c)
		sessionUsers = append(sessionUsers, user)
	}

	// Waiting on the prompt, each in their own way.
	var waiting []*waiter
	for range inlinePeople {
		w := newWaiter(t, base, admin, <-names, "waiting")
		waiting = append(waiting, w)
	}
	var polling []*waiter
	for range pollingPeople {
		w := newWaiter(t, base, admin, <-names, "waiting")
		w.poller = &devicePoller{dev: w.dev}
		go w.poller.run(ctx)
		polling = append(polling, w)
		waiting = append(waiting, w)
	}
	var pushed []*waiter
	for range pushedPeople {
		w := newWaiter(t, base, admin, <-names, "waiting_approval")
		w.sendPush(t)
		w.poller = &devicePoller{dev: w.dev}
		go w.poller.run(ctx)
		pushed = append(pushed, w)
		waiting = append(waiting, w)
	}
	listener := newListeningDevice(ctx, t, base, admin, <-names)
	waiting = append(waiting, listener.waiter)

	// Traffic starts: pages for the signed-in, status polls (as
	// trustgate.js makes them) for the waiting.
	stopTraffic, stopStatus := make(chan struct{}), make(chan struct{})
	var trafficDone, statusDone sync.WaitGroup
	endTraffic := sync.OnceFunc(func() { close(stopTraffic); trafficDone.Wait() })
	endStatus := sync.OnceFunc(func() { close(stopStatus); statusDone.Wait() })
	defer endTraffic() // also when the test fails half-way
	defer endStatus()
	for i, c := range sessions {
		trafficDone.Add(1)
		go func() { defer trafficDone.Done(); traffic.run(c, base, sessionUsers[i], stopTraffic) }()
	}
	for _, w := range waiting {
		statusDone.Add(1)
		go func() { defer statusDone.Done(); w.pollStatus(stopStatus) }()
	}
	for _, w := range pushed {
		w.push = w.poller.awaitPush(t)
	}
	for _, w := range polling {
		w.poller.awaitHeld(t, time.Time{})
	}
	traffic.awaitProgress(t, 20)

	reloads := &reloadWindows{}
	for gen := 2; gen <= 3; gen++ {
		start := time.Now()
		gw.reload(t, gen)
		took := time.Since(start)
		reloads.add(start, start.Add(took))
		traffic.generation.Store(int32(gen))
		t.Logf("reload to generation %d took %s", gen, took.Round(time.Millisecond))
		for _, w := range polling {
			w.poller.checkHeldPoll(t, w.user, start, took)
		}
		traffic.awaitGeneration(t, gen)
		for _, w := range polling {
			w.poller.awaitHeld(t, start) // the retry, now held by the new configuration
		}
		traffic.awaitProgress(t, 20)
	}

	// The waiting pages' status polls work across the reloads.
	for _, w := range waiting {
		awaitCondition(t, w.user+"'s status poll after the reloads", func() bool {
			return w.lastStatus.Load() > reloads.lastEnd().UnixNano()
		})
	}
	// The pending verifications complete under the new configuration,
	// while the signed-in traffic goes on.
	endStatus()
	for _, w := range waiting {
		w.reportStatusPolls(t, reloads)
	}
	for _, w := range waiting[:inlinePeople] {
		w.completeInline(t)
	}
	for _, w := range polling {
		w.sendPush(t)
		w.push = w.poller.awaitPush(t)
		w.completePush(t)
	}
	for _, w := range pushed {
		w.completePush(t)
	}
	listener.complete(t)
	for _, w := range waiting {
		w.expectSignedIn(t, 3)
	}

	traffic.awaitProgress(t, 5)
	endTraffic()
	cancel()
	for _, w := range append(polling, pushed...) {
		w.poller.reportErrors(t, w.user, reloads)
	}
	traffic.report(t, reloads)

	// And afterwards the latest configuration serves everyone.
	status, hdr, body, err := sessions[0].fetch(base+"/", "text/html")
	if err != nil || status != http.StatusOK || hdr.Get("X-Config-Generation") != "3" || body != "upstream gen3: "+sessionUsers[0] {
		t.Errorf("after the reloads: %d %q %q %v", status, hdr.Get("X-Config-Generation"), body, err)
	}
}

// reloadable is a gateway's Caddyfile, rewritten for each generation.
type reloadable struct {
	dir, config, storage, users string
	env                         []string
	port, adminPort             int
}

// write writes generation gen of the config: each generation changes the
// upstream's answer and a response header.
func (g *reloadable) write(t *testing.T, gen int) {
	t.Helper()
	cfg := fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	trusted_endpoints {
		%s
	}
}

http://:%d {
	header X-Config-Generation %d
	trusted_endpoints {
		login users_file %s
		mode check
		push_timeout 10m
		mobile {
			enable groups pilot
			require screen_lock
		}
	}
	respond "upstream gen%d: {http.request.header.X-Trustgate-User}"
}
`, g.adminPort, g.storage, g.port, gen, g.users, gen)
	if err := os.WriteFile(g.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// reload writes generation gen and runs `trustgate reload`, which returns
// once the new configuration serves and the old one is stopped.
func (g *reloadable) reload(t *testing.T, gen int) {
	t.Helper()
	g.write(t, gen)
	runTrustgate(t, g.dir, g.env, "reload", "--config", g.config, "--adapter", "caddyfile",
		"--address", fmt.Sprintf("localhost:%d", g.adminPort))
}

// sessionTraffic is signed-in people requesting the protected app without
// pause, and what they got.
type sessionTraffic struct {
	// generation is the config generation the last finished reload
	// installed.
	generation atomic.Int32

	mu sync.Mutex
	// answers counts each session's good answers; newest the newest
	// generation each has seen.
	answers, newest map[string]int
	ok, stale       int
	// toLogin and other describe requests sent to log in again, or
	// answered otherwise; lost are requests not answered at all.
	toLogin, other []string
	lost           []lostRequest
}

var upstreamAnswer = regexp.MustCompile(`^upstream gen(\d+): (\S+)$`)

// run requests / as user until stop is closed.
func (tr *sessionTraffic) run(c *client, base, user string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(5 * time.Millisecond): // pace, to leave the shared CPU some air
		}
		installed := int(tr.generation.Load())
		status, hdr, body, err := c.fetch(base+"/", "text/html")
		var lost *noAnswer
		if errors.As(err, &lost) {
			// As a person would press reload; see droppedBySwitch.
			status, hdr, body, err = c.fetch(base+"/", "text/html")
			tr.lose(lostRequest{who: user, err: lost, retriedOK: err == nil})
		}
		tr.record(user, installed, status, hdr, body, err)
	}
}

func (tr *sessionTraffic) lose(l lostRequest) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.lost = append(tr.lost, l)
}

func (tr *sessionTraffic) record(user string, installed, status int, hdr http.Header, body string, err error) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.answers == nil {
		tr.answers, tr.newest = map[string]int{}, map[string]int{}
	}
	m := upstreamAnswer.FindStringSubmatch(body)
	switch {
	case err != nil:
		// Reported through lost.
	case status == http.StatusFound || status == http.StatusSeeOther:
		tr.toLogin = append(tr.toLogin, fmt.Sprintf("%s: %d to %s", user, status, hdr.Get("Location")))
	case status != http.StatusOK || m == nil || m[2] != user || hdr.Get("X-Config-Generation") != m[1]:
		tr.other = append(tr.other, fmt.Sprintf("%s: %d %q (generation header %q)", user, status, body, hdr.Get("X-Config-Generation")))
	default:
		gen, _ := strconv.Atoi(m[1])
		tr.ok++
		tr.answers[user]++
		tr.newest[user] = max(tr.newest[user], gen)
		if gen < installed {
			// Sent after the reload returned, answered by the old
			// configuration: Caddy only promises that the old servers
			// have likely begun shutting down by then.
			tr.stale++
		}
	}
}

// snapshot returns each session's good answers so far.
func (tr *sessionTraffic) snapshot() map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[string]int, len(tr.answers))
	for u, n := range tr.answers {
		out[u] = n
	}
	return out
}

// awaitProgress waits until every session has had n more good answers.
func (tr *sessionTraffic) awaitProgress(t *testing.T, n int) {
	t.Helper()
	from := tr.snapshot()
	awaitCondition(t, fmt.Sprintf("every session getting %d more pages", n), func() bool {
		now := tr.snapshot()
		if len(now) < signedInPeople {
			return false
		}
		for u, k := range now {
			if k < from[u]+n {
				return false
			}
		}
		return true
	})
}

// awaitGeneration waits until every session has been answered by
// generation gen.
func (tr *sessionTraffic) awaitGeneration(t *testing.T, gen int) {
	t.Helper()
	awaitCondition(t, fmt.Sprintf("every session seeing generation %d", gen), func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for _, g := range tr.newest {
			if g < gen {
				return false
			}
		}
		return len(tr.newest) == signedInPeople
	})
}

func (tr *sessionTraffic) report(t *testing.T, reloads *reloadWindows) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	t.Logf("signed-in traffic: %d good answers (%d from the previous generation just after a reload), %d sent to log in, %d other answers, %d without answer",
		tr.ok, tr.stale, len(tr.toLogin), len(tr.other), len(tr.lost))
	reloads.reportLost(t, tr.lost)
	for what, list := range map[string][]string{"sent to log in again (session dropped)": tr.toLogin, "unexpected answer": tr.other} {
		for i, s := range list {
			if i == 5 {
				t.Errorf("… and %d more %s", len(list)-i, what)
				break
			}
			t.Errorf("%s: %s", what, s)
		}
	}
}

// awaitCondition polls ok until it holds, failing t after a generous
// deadline.
func awaitCondition(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fetch is a GET that returns the headers too and fails nothing. A
// request without an answer returns a *noAnswer.
func (c *client) fetch(u, accept string) (status int, hdr http.Header, body string, err error) {
	var reused bool
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { reused = info.Reused }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Accept", accept)
	if c.ua != "" {
		req.Header.Set("User-Agent", c.ua)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		return 0, nil, "", &noAnswer{err: err, reused: reused, at: time.Now()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, "", &noAnswer{err: err, reused: reused, at: time.Now()}
	}
	return resp.StatusCode, resp.Header, string(b), nil
}

// noAnswer is a request that got no (complete) answer.
type noAnswer struct {
	err error
	// reused says the connection had carried earlier requests (else the
	// client dialled it for this one).
	reused bool
	at     time.Time
}

func (e *noAnswer) Error() string {
	conn := "new"
	if e.reused {
		conn = "reused"
	}
	return fmt.Sprintf("%v (on a %s connection, at %s)", e.err, conn, e.at.Format("15:04:05.000"))
}

func (e *noAnswer) Unwrap() error { return e.err }

// lostRequest is a request that got no answer, and whether the client's
// immediate retry did.
type lostRequest struct {
	who       string
	err       *noAnswer
	retriedOK bool
}

// reloadWindows records when reloads ran.
type reloadWindows struct {
	mu      sync.Mutex
	windows [][2]time.Time
}

func (rw *reloadWindows) add(start, end time.Time) {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	rw.windows = append(rw.windows, [2]time.Time{start, end})
}

// lastEnd returns when the last reload returned.
func (rw *reloadWindows) lastEnd() time.Time {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if len(rw.windows) == 0 {
		return time.Time{}
	}
	return rw.windows[len(rw.windows)-1][1]
}

// droppedBySwitch reports whether l is the one loss a reload may cause,
// which no handler can prevent. On Linux, Caddy (listen_unix.go,
// listenReusable) gives each configuration its own listening socket with
// SO_REUSEPORT, and the kernel spreads new connections over both while
// the configurations overlap. When the old server shuts down it closes its
// socket, and the kernel resets every connection still queued on it
// ("connect: connection reset by peer"), unless net.ipv4.tcp_migrate_req
// is 1 (Linux 5.14+), which hands them to the new socket. A connection the
// old server did accept but whose request it reads after Shutdown began is
// closed unanswered by net/http (conn.serve checks shuttingDown right after
// readRequest): an EOF. Either way the request was on a new connection,
// during the reload, and was never seen by a handler; a retry reaches the
// new server. (On a reused connection Go's client, like browsers, retries
// an idempotent request by itself.) So such a loss is tolerated, and
// logged, only for a new connection, during a reload (plus a second for
// the error to surface), when the client's retry at once was answered.
func (rw *reloadWindows) droppedBySwitch(l lostRequest) bool {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if l.err.reused || !l.retriedOK {
		return false
	}
	for _, w := range rw.windows {
		if !l.err.at.Before(w[0]) && !l.err.at.After(w[1].Add(time.Second)) {
			return true
		}
	}
	return false
}

// reportLost fails t for every lost request the switch does not explain,
// and logs the others.
func (rw *reloadWindows) reportLost(t *testing.T, lost []lostRequest) {
	t.Helper()
	for _, l := range lost {
		if rw.droppedBySwitch(l) {
			t.Logf("%s: a request on a new connection was dropped by the old server during the reload, and answered on retry: %v", l.who, l.err)
			continue
		}
		t.Errorf("%s: request without answer (retry answered: %v): %v", l.who, l.retriedOK, l.err)
	}
}

// waiter is a person whose phone browser waits on the prompt.
type waiter struct {
	user, base string
	client     *client
	dev        *agent.Agent
	// link is the prompt's verification link; csrf its forms' token.
	link, csrf string
	// wantState is what the status poll must say while the person waits.
	wantState string
	// poller long-polls for the device, when it does; push is the login
	// request it got, number the number the browser showed for it.
	poller       *devicePoller
	push         protocol.Push
	number       string
	statusPolls  int
	lastStatus   atomic.Int64 // when the last good status poll was answered (Unix ns)
	statusIssues []string
	lost         []lostRequest
}

var (
	matchNumberRE = regexp.MustCompile(`id="match-number">(\d+)<`)
	returnLinkRE  = regexp.MustCompile(`http://\S+/\.trustgate/return\?\S+`)
)

// newWaiter signs user in on a phone whose app is activated, up to the
// prompt.
func newWaiter(t *testing.T, base, admin, user, wantState string) *waiter {
	t.Helper()
	w := &waiter{user: user, base: base, client: newClient(t), wantState: wantState}
	w.client.ua = phoneUA
	w.dev = activatedAgent(t, admin, base, user)
	w.openPrompt(t)
	return w
}

// openPrompt signs in and reads the prompt.
func (w *waiter) openPrompt(t *testing.T) {
	t.Helper()
	if status := w.client.login(w.base, w.user, "pw"); status != http.StatusSeeOther {
		t.Fatalf("%s: login: %d", w.user, status)
	}
	status, page := w.client.get(w.base + "/.trustgate/verify")
	link, csrf := verifyLinkRE.FindStringSubmatch(page), csrfField.FindStringSubmatch(page)
	if status != http.StatusOK || link == nil || csrf == nil {
		t.Fatalf("%s: prompt: %d\n%s", w.user, status, page)
	}
	w.link, w.csrf = html.UnescapeString(link[1]), csrf[1]
}

// sendPush presses "Send a request" on the prompt and reads the number
// shown for it.
func (w *waiter) sendPush(t *testing.T) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.base+"/.trustgate/verify/push",
		strings.NewReader(url.Values{"csrf": {w.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	req.Header.Set("User-Agent", w.client.ua)
	resp, err := w.client.c.Do(req)
	if err != nil {
		t.Fatalf("%s: sending a push: %v", w.user, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s: sending a push: %d", w.user, resp.StatusCode)
	}
	status, page := w.client.get(w.base + "/.trustgate/verify")
	m := matchNumberRE.FindStringSubmatch(page)
	if status != http.StatusOK || m == nil {
		t.Fatalf("%s: prompt after sending a push: %d\n%s", w.user, status, page)
	}
	w.number = m[1]
}

// pollStatus polls the waiting page's status as trustgate.js does, until
// stop is closed, noting every answer that is not "still waiting".
func (w *waiter) pollStatus(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(50 * time.Millisecond):
		}
		status, _, body, err := w.client.fetch(w.base+"/.trustgate/verify/status", "application/json")
		var lost *noAnswer
		if errors.As(err, &lost) {
			status, _, body, err = w.client.fetch(w.base+"/.trustgate/verify/status", "application/json")
			w.lost = append(w.lost, lostRequest{who: w.user + " (status poll)", err: lost, retriedOK: err == nil})
		}
		var s struct{ State string }
		switch {
		case err != nil:
		case status != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil || s.State != w.wantState:
			w.statusIssues = append(w.statusIssues, fmt.Sprintf("%d %s", status, body))
		default:
			w.statusPolls++
			w.lastStatus.Store(time.Now().UnixNano())
		}
	}
}

func (w *waiter) reportStatusPolls(t *testing.T, reloads *reloadWindows) {
	t.Helper()
	reloads.reportLost(t, w.lost)
	for i, issue := range w.statusIssues {
		if i == 3 {
			t.Errorf("%s: … and %d more bad status polls", w.user, len(w.statusIssues)-i)
			break
		}
		t.Errorf("%s: status poll while waiting: %s (want state %q)", w.user, issue, w.wantState)
	}
}

// completeInline is the app reporting for the prompt's link and approving,
// and the phone's browser opening the return link.
func (w *waiter) completeInline(t *testing.T) {
	t.Helper()
	rep, err := w.dev.Verify(context.Background(), w.link, healthyFacts())
	if err != nil || rep.Push == nil {
		t.Fatalf("%s: report after the reloads: %+v %v", w.user, rep, err)
	}
	ans, err := w.dev.Answer(context.Background(), "", rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil || ans.ReturnURL == "" {
		t.Fatalf("%s: approval after the reloads: %+v %v", w.user, ans, err)
	}
	if status, page := w.client.get(ans.ReturnURL); status != http.StatusSeeOther {
		t.Fatalf("%s: return link after the reloads: %d\n%s", w.user, status, page)
	}
}

// completePush approves the push with the browser's number; the browser's
// status poll then sends it to finish.
func (w *waiter) completePush(t *testing.T) {
	t.Helper()
	if !w.push.NumberMatching {
		t.Fatalf("%s: push %+v has no number matching", w.user, w.push)
	}
	ans, err := w.dev.Answer(context.Background(), "", w.push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: w.number})
	if err != nil || ans.State != "approved" {
		t.Fatalf("%s: approving the push after the reloads: %+v %v", w.user, ans, err)
	}
	status, _, body, err := w.client.fetch(w.base+"/.trustgate/verify/status", "application/json")
	var s struct{ State, Next string }
	if err != nil || status != http.StatusOK || json.Unmarshal([]byte(body), &s) != nil || s.State != "approved" || s.Next == "" {
		t.Fatalf("%s: status after approval: %d %s %v", w.user, status, body, err)
	}
	if status, page := w.client.get(w.base + s.Next); status != http.StatusSeeOther {
		t.Fatalf("%s: finishing after approval: %d\n%s", w.user, status, page)
	}
}

// expectSignedIn checks that the person now reaches the app, served by
// generation gen.
func (w *waiter) expectSignedIn(t *testing.T, gen int) {
	t.Helper()
	want := fmt.Sprintf("upstream gen%d: %s", gen, w.user)
	if status, body := w.client.get(w.base + "/"); status != http.StatusOK || body != want {
		t.Errorf("%s: after finishing: %d %q, want %q", w.user, status, body, want)
	}
}

// devicePoller is a device's push long-poll loop: it polls again at once
// after an empty answer, as the reference agent's listen does, and stops at
// the first push.
type devicePoller struct {
	dev    *agent.Agent
	mu     sync.Mutex
	polls  []*longPoll
	pushes []protocol.Push
}

// longPoll is one poll: when its request was written and answered.
type longPoll struct {
	sent, done time.Time
	pushes     int
	err        error
	// reused says the request went on a connection used before.
	reused bool
}

func (lp *longPoll) String() string {
	return fmt.Sprintf("sent %s, done %s, %d pushes, error %v (reused connection: %v)",
		lp.sent.Format("15:04:05.000"), lp.done.Format("15:04:05.000"), lp.pushes, lp.err, lp.reused)
}

func (p *devicePoller) run(ctx context.Context) {
	for ctx.Err() == nil {
		lp := &longPoll{}
		p.mu.Lock()
		p.polls = append(p.polls, lp)
		p.mu.Unlock()
		trace := &httptrace.ClientTrace{
			GotConn: func(info httptrace.GotConnInfo) {
				p.mu.Lock()
				lp.reused = info.Reused
				p.mu.Unlock()
			},
			WroteRequest: func(httptrace.WroteRequestInfo) {
				p.mu.Lock()
				if lp.sent.IsZero() {
					lp.sent = time.Now()
				}
				p.mu.Unlock()
			},
		}
		pushes, err := p.dev.Pushes(httptrace.WithClientTrace(ctx, trace), pollWait)
		p.mu.Lock()
		lp.done, lp.pushes, lp.err = time.Now(), len(pushes), err
		p.pushes = append(p.pushes, pushes...)
		p.mu.Unlock()
		if len(pushes) > 0 {
			return
		}
		if err != nil && ctx.Err() == nil {
			time.Sleep(time.Second) // as listen backs off; the test reports the error
		}
	}
}

// awaitHeld waits until a poll sent after since is in flight.
func (p *devicePoller) awaitHeld(t *testing.T, since time.Time) {
	t.Helper()
	awaitCondition(t, "a long-poll in flight", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.polls) == 0 {
			return false
		}
		lp := p.polls[len(p.polls)-1]
		return lp.sent.After(since) && lp.done.IsZero()
	})
}

// reportErrors fails t for every failed poll but the ones a reload's
// switch explains (see droppedBySwitch), which it logs.
func (p *devicePoller) reportErrors(t *testing.T, user string, reloads *reloadWindows) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, lp := range p.polls {
		if lp.err == nil {
			continue
		}
		retried := i+1 < len(p.polls) && p.polls[i+1].err == nil
		reloads.reportLost(t, []lostRequest{{who: user + " (long-poll)", err: &noAnswer{err: lp.err, reused: lp.reused, at: lp.done}, retriedOK: retried}})
	}
}

// awaitPush waits for the loop's push.
func (p *devicePoller) awaitPush(t *testing.T) protocol.Push {
	t.Helper()
	awaitCondition(t, "a push to arrive", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.pushes) > 0
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pushes[0]
}

// checkHeldPoll checks the poll that was in flight when a reload began at
// start (and took took): it came back without error, with no push, well
// before its wait, and the device polled again.
func (p *devicePoller) checkHeldPoll(t *testing.T, user string, start time.Time, took time.Duration) {
	t.Helper()
	var held *longPoll
	var next int
	defer func() {
		if t.Failed() {
			p.mu.Lock()
			defer p.mu.Unlock()
			for i, lp := range p.polls {
				t.Logf("%s: poll %d: %s", user, i+1, lp)
			}
		}
	}()
	awaitCondition(t, user+"'s held long-poll to come back", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		for i, lp := range p.polls {
			if !lp.sent.IsZero() && lp.sent.Before(start) && (lp.done.IsZero() || lp.done.After(start)) {
				held, next = lp, i+1
				return !lp.done.IsZero()
			}
		}
		return false
	})
	p.mu.Lock()
	defer p.mu.Unlock()
	if held == nil {
		t.Fatalf("%s: no long-poll was in flight at the reload", user)
	}
	back := held.done.Sub(start)
	t.Logf("%s: long-poll held %s before the reload came back %s after the reload began (%s after `trustgate reload` returned); its wait was %s",
		user, start.Sub(held.sent).Round(time.Millisecond), back.Round(time.Millisecond), (back - took).Round(time.Millisecond), pollWait)
	if held.err != nil || held.pushes != 0 {
		t.Errorf("%s: long-poll at the reload: %d pushes, %v; want an empty list", user, held.pushes, held.err)
	}
	// Generous: it comes back in well under a second; without the
	// retirement it would be held for the rest of its 30 s wait.
	if back > pollWait/2 {
		t.Errorf("%s: the long-poll held at the reload came back only %s after it", user, back)
	}
	if next >= len(p.polls) {
		t.Errorf("%s: the device did not poll again after the reload", user)
	}
}

// listeningDevice is a person whose app is the reference agent's
// `trustgate-device listen --approve`, started before the reloads.
type listeningDevice struct {
	*waiter
	state string
	out   chan string
	errs  *strings.Builder
	mu    sync.Mutex
}

func newListeningDevice(ctx context.Context, t *testing.T, base, admin, user string) *listeningDevice {
	t.Helper()
	l := &listeningDevice{state: t.TempDir(), out: make(chan string, 100), errs: new(strings.Builder)}
	runDevice(t, l.state, "activate", base+protocol.ActivateLinkPath+"?code="+url.QueryEscape(issueActivation(t, admin, user)),
		"--platform", "android", "--os", "14")
	l.waiter = &waiter{user: user, base: base, client: newClient(t), wantState: "waiting"}
	l.client.ua = phoneUA
	l.openPrompt(t)

	cmd := exec.CommandContext(ctx, deviceBinary, "listen", "--approve", "--state", l.state)
	cmd.Stderr = lockedWriter{&l.mu, l.errs}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	go func() {
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			l.out <- s.Text()
		}
		close(l.out)
	}()
	// It polls once it says it listens.
	select {
	case line := <-l.out:
		if !strings.HasPrefix(line, "listening") {
			t.Fatalf("listen: %s", line)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("listen did not start")
	}
	return l
}

// complete has the reference agent report for the prompt without
// answering; the listen started before the reloads must find the login
// request and approve it, and the browser opens the return link it prints.
func (l *listeningDevice) complete(t *testing.T) {
	t.Helper()
	runDevice(t, l.state, "verify", l.link, "--screen-lock", "--answer", "ask") // no input: left unanswered
	var ret string
	timeout := time.After(60 * time.Second)
	for ret == "" {
		select {
		case line, ok := <-l.out:
			if !ok {
				t.Fatalf("%s: listen ended: %s", l.user, l.stderr())
			}
			ret = returnLinkRE.FindString(line)
		case <-timeout:
			t.Fatalf("%s: listen did not approve the login request after the reloads: %s", l.user, l.stderr())
		}
	}
	if status, page := l.client.get(ret); status != http.StatusSeeOther {
		t.Fatalf("%s: return link from listen: %d\n%s", l.user, status, page)
	}
	for _, line := range strings.Split(strings.TrimSpace(l.stderr()), "\n") {
		switch {
		case line == "":
		case strings.Contains(line, ": EOF;"), strings.Contains(line, "connection reset by peer"):
			// Its retry right after a reload hit the switch (see
			// droppedBySwitch); listen polled again a second later.
			t.Logf("%s: listen: %s", l.user, line)
		default:
			t.Errorf("%s: listen reported an error across the reloads: %s", l.user, line)
		}
	}
}

func (l *listeningDevice) stderr() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errs.String()
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (lw lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}
