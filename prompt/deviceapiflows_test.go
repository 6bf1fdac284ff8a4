package prompt_test

// The device API at the gate, spoken by the reference agent or by hand
// with signed requests. Moved from caddymodule, where they ran one after
// another through one Caddy; each builds its own gate (gatetest).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
)

// signedRequest makes a device API request with a proof by key, signed for
// method and signPath (normally the request's own path).
func signedRequest(t *testing.T, gw *gatetest.Gateway, key *ecdsa.PrivateKey, embed bool, method, path, signPath string, body []byte) (*http.Request, string) {
	return gatetest.SignedRequest(t, gw.URL, key, embed, method, path, signPath, body)
}

// activatedKey activates a raw key for user and returns it.
func activatedKey(t *testing.T, gw *gatetest.Gateway, user string) *ecdsa.PrivateKey {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	code, _ := gw.IssueActivation(t, user)
	body, _ := json.Marshal(protocol.ActivateRequest{Code: code, Platform: "android", Model: "Pixel", OSVersion: "14", AppVersion: "1.0.0"})
	req, _ := signedRequest(t, gw, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
	if status, code := gatetest.APICall(t, req); status != http.StatusCreated {
		t.Fatalf("activation: %d %s", status, code)
	}
	return key
}

func TestDeviceAPIRefusesBadProofs(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	key := activatedKey(t, gw, "alice")

	t.Run("replayed proof", func(t *testing.T) {
		req, proof := signedRequest(t, gw, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		if status, _ := gatetest.APICall(t, req); status != http.StatusOK {
			t.Fatalf("first use: %d", status)
		}
		again, _ := http.NewRequest(http.MethodGet, gw.URL+protocol.PathDevice, nil)
		again.Header.Set("Authorization", protocol.AuthScheme+" "+proof)
		if status, code := gatetest.APICall(t, again); status != http.StatusUnauthorized || code != "replayed_proof" {
			t.Errorf("replay: %d %s", status, code)
		}
	})
	t.Run("proof for another URL", func(t *testing.T) {
		req, _ := signedRequest(t, gw, key, false, http.MethodGet, protocol.PathPushes, protocol.PathDevice, nil)
		if status, code := gatetest.APICall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("forwarded proof: %d %s", status, code)
		}
	})
	t.Run("proof for another body", func(t *testing.T) {
		req, _ := signedRequest(t, gw, key, false, http.MethodPost, protocol.PathPushes+"/x", protocol.PathPushes+"/x", []byte(`{"answer":"deny"}`))
		req.Body = io.NopCloser(strings.NewReader(`{"answer":"approve"}`))
		req.ContentLength = int64(len(`{"answer":"approve"}`))
		if status, code := gatetest.APICall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("changed body: %d %s", status, code)
		}
	})
	t.Run("unknown device key", func(t *testing.T) {
		stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		req, _ := signedRequest(t, gw, stranger, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		if status, code := gatetest.APICall(t, req); status != http.StatusUnauthorized || code != "unknown_device" {
			t.Errorf("unknown key: %d %s", status, code)
		}
	})
	t.Run("tampered JWS", func(t *testing.T) {
		req, proof := signedRequest(t, gw, key, false, http.MethodGet, protocol.PathDevice, protocol.PathDevice, nil)
		parts := strings.Split(proof, ".")
		payload := []byte(parts[1])
		payload[len(payload)/2] ^= 1
		req.Header.Set("Authorization", protocol.AuthScheme+" "+parts[0]+"."+string(payload)+"."+parts[2])
		if status, code := gatetest.APICall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("tampered: %d %s", status, code)
		}
	})
	t.Run("no proof", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, gw.URL+protocol.PathDevice, nil)
		if status, code := gatetest.APICall(t, req); status != http.StatusUnauthorized || code != "invalid_proof" {
			t.Errorf("no proof: %d %s", status, code)
		}
	})
}

func TestDeviceAPIReportsAreBoundToTheirTransaction(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	alice := gw.Activate(t, "alice", gatetest.Android14)
	bob := gw.Activate(t, "bob", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	_, link := gatetest.PromptLinks(t, page)

	// Bob's device answers for alice's transaction.
	if _, err := bob.Verify(context.Background(), link, gatetest.Healthy()); agent.ErrorCode(err) != "wrong_user" {
		t.Errorf("another user's device: %v, want wrong_user", err)
	}
	// A wrong challenge.
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set("challenge", "not-the-challenge")
	u.RawQuery = q.Encode()
	if _, err := alice.Verify(context.Background(), u.String(), gatetest.Healthy()); agent.ErrorCode(err) != "wrong_challenge" {
		t.Errorf("wrong challenge: %v", err)
	}
	// An unknown transaction.
	q = u.Query()
	q.Set("tx", "no-such-transaction")
	u.RawQuery = q.Encode()
	if _, err := alice.Verify(context.Background(), u.String(), gatetest.Healthy()); agent.ErrorCode(err) != "not_found" {
		t.Errorf("unknown transaction: %v", err)
	}
	// The right device reports once; a second report is refused.
	if _, err := alice.Verify(context.Background(), link, gatetest.Healthy()); err != nil {
		t.Fatal(err)
	}
	if _, err := alice.Verify(context.Background(), link, gatetest.Healthy()); agent.ErrorCode(err) != "conflict" {
		t.Errorf("second report: %v, want conflict", err)
	}
	// Bob cannot answer alice's login request either.
	pushes, err := bob.Pushes(context.Background(), 0)
	if err != nil || len(pushes) != 0 {
		t.Errorf("bob sees alice's requests: %v %v", pushes, err)
	}
}

func TestDeviceAPIRefusesBadJSON(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	key := activatedKey(t, gw, "alice")
	path := protocol.PathReportPrefix + "tx/report"
	for _, tc := range []struct {
		name   string
		body   []byte
		status int
	}{
		{"malformed", []byte(`{"challenge":`), http.StatusBadRequest},
		{"not an object", []byte(`[1,2,3]`), http.StatusBadRequest},
		{"unknown field", []byte(`{"challenge":"c","facts":{},"admin":true}`), http.StatusBadRequest},
		{"unknown fact", []byte(`{"challenge":"c","facts":{"platform":"android","rooted_but_fine":true}}`), http.StatusBadRequest},
		{"trailing data", []byte(`{"challenge":"c","facts":{}} {}`), http.StatusBadRequest},
		{"no facts", []byte(`{"challenge":"c"}`), http.StatusBadRequest},
		{"oversized", append(append([]byte(`{"challenge":"`), bytes.Repeat([]byte("a"), 70<<10)...), `"}`...), http.StatusRequestEntityTooLarge},
		{"deeply nested", []byte(`{"challenge":"c","facts":` + strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000) + `}`), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := signedRequest(t, gw, key, false, http.MethodPost, path, path, tc.body)
			if status, code := gatetest.APICall(t, req); status != tc.status || code != "bad_request" {
				t.Errorf("%s: %d %s, want %d bad_request", tc.name, status, code, tc.status)
			}
		})
	}
}

func TestDeviceActivationGuessingIsLimited(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck, Device: func(d *prompt.DeviceTrust) { d.ActivationAttempts = 3 }})
	code, _ := gw.IssueActivation(t, "alice")
	try := func(c string) (int, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		body, _ := json.Marshal(protocol.ActivateRequest{Code: c, Platform: "android"})
		req, _ := signedRequest(t, gw, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
		return gatetest.APICall(t, req)
	}
	for i := 0; i < 3; i++ {
		if status, c := try(fmt.Sprintf("guess-%d", i)); status != http.StatusNotFound || c != "not_found" {
			t.Fatalf("guess %d: %d %s", i, status, c)
		}
	}
	if status, c := try(code); status != http.StatusTooManyRequests || c != "too_many_requests" {
		t.Errorf("right code after 3 wrong guesses: %d %s, want 429", status, c)
	}
}

func TestDeviceLongPollWakesOnNewPush(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck})
	other := gw.Activate(t, "alice", gatetest.Android14)
	type result struct {
		pushes []protocol.Push
		err    error
		took   time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		p, err := other.Pushes(context.Background(), 20*time.Second)
		done <- result{p, err, time.Since(start)}
	}()
	// Let the long-poll reach the gate.
	wait, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.WaitPolls(wait, 1); err != nil {
		t.Fatal(err)
	}
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/")
	if r := b.PostForm("/.trustgate/verify/push", url.Values{"csrf": {gatetest.FormCSRF(t, page)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("send push: %d", r.Status)
	}
	res := <-done
	if res.err != nil || len(res.pushes) != 1 {
		t.Fatalf("long-poll: %v %v", res.pushes, res.err)
	}
	t.Logf("long-poll answered after %s of a 20s wait", res.took.Round(time.Millisecond))
}

func TestDeviceApprovalSentAgainGetsTheSameReturnLink(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeBlock})
	dev := gw.Activate(t, "alice", gatetest.Android14)
	other := gw.Activate(t, "alice", gatetest.Android14)
	b := gw.NewBrowser(gatetest.AndroidUA)
	page := b.OpenPrompt("alice", "/docs")
	rep, first := gw.InlineCheck(t, dev, page, gatetest.Healthy(), protocol.AnswerApprove)
	if first.ReturnURL == "" {
		t.Fatalf("first approval = %+v, want a return link", first)
	}
	ctx := context.Background()
	if _, err := other.Answer(ctx, gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); err == nil {
		t.Fatal("another device answered this device's login request")
	}
	if _, err := dev.Answer(ctx, gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny}); agent.ErrorCode(err) != "already_answered" {
		t.Fatalf("a denial after the approval: %v, want already_answered", err)
	}
	again, err := dev.Answer(ctx, gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil {
		t.Fatalf("approving again: %v", err)
	}
	if again != first {
		t.Fatalf("second approval = %+v, want the first answer %+v", again, first)
	}
	if r := b.Get(first.ReturnURL); r.Status != http.StatusSeeOther || r.Location != "/docs" {
		t.Fatalf("return link: %d → %q (%s)", r.Status, r.Location, r.Body)
	}
	if r := b.Get("/docs"); r.Status != http.StatusOK {
		t.Fatalf("after the return link: %d", r.Status)
	}
	if _, err := dev.Answer(ctx, gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove}); agent.ErrorCode(err) != "already_answered" {
		t.Fatalf("approving a completed login again: %v, want already_answered", err)
	}
}

func TestDeviceActivationsFromOneAddressCountOnlyFailures(t *testing.T) {
	t.Parallel()
	gw := gatetest.New(t, gatetest.Options{Mode: policy.ModeCheck, Device: func(d *prompt.DeviceTrust) { d.ActivationAttempts = 3 }})
	try := func(c string) (int, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		body, _ := json.Marshal(protocol.ActivateRequest{Code: c, Platform: "android"})
		req, _ := signedRequest(t, gw, key, true, http.MethodPost, protocol.PathActivate, protocol.PathActivate, body)
		return gatetest.APICall(t, req)
	}
	const people = 5 // more than activation_attempts
	codes := make([]string, people)
	for i := range codes {
		codes[i], _ = gw.IssueActivation(t, "alice")
	}
	statuses := make([]int, people)
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Go(func() { statuses[i], _ = try(code) })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusCreated {
			t.Errorf("activation %d of %d at once from one address: %d, want 201", i+1, people, s)
		}
	}
	for i := 0; i < 2; i++ {
		if status, _ := try(fmt.Sprintf("guess-%d", i)); status != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, status)
		}
	}
	good, _ := gw.IssueActivation(t, "alice")
	if status, _ := try(good); status != http.StatusCreated {
		t.Fatalf("right code after 2 wrong guesses: %d", status)
	}
	if status, _ := try("guess-2"); status != http.StatusNotFound {
		t.Fatalf("third guess: %d", status)
	}
	last, _ := gw.IssueActivation(t, "alice")
	if status, c := try(last); status != http.StatusTooManyRequests {
		t.Errorf("after 3 wrong guesses (one success between them): %d %s, want 429", status, c)
	}
}
