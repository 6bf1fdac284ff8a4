package agent_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/gatetest"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

func ptr[T any](v T) *T { return &v }

var pixel = agent.DeviceInfo{Platform: "android", Model: "Pixel 8", OSVersion: "14", AppVersion: "1.0.0"}

func healthy() agent.Facts {
	return agent.Facts{
		Platform: "android", OSVersion: "14", SecurityPatch: "2026-10-05",
		ScreenLock: ptr(true), Biometrics: ptr(true), DiskEncryption: ptr(true), Tampered: ptr(false),
		AppVersion: "1.0.0", Model: "Pixel 8",
	}
}

func newAgent(t *testing.T, client *http.Client) *agent.Agent {
	t.Helper()
	a, _ := newKeyedAgent(t, client)
	return a
}

func newKeyedAgent(t *testing.T, client *http.Client) (*agent.Agent, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{Key: key, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return a, key
}

// newGateway starts a real gate, in mode (check unless given), whose policy
// requires a screen lock and an untampered phone and warns about
// biometrics (gatetest.AgentPolicy).
func newGateway(t *testing.T, mode ...policy.Mode) *gatetest.Gateway {
	t.Helper()
	o := gatetest.Options{Policy: gatetest.AgentPolicy}
	if len(mode) > 0 {
		o.Mode = mode[0]
	}
	return gatetest.New(t, o)
}

// activated returns an agent activated for user on g.
func activated(t *testing.T, g *gatetest.Gateway, user string) *agent.Agent {
	t.Helper()
	a := newAgent(t, nil)
	_, link := g.IssueActivation(t, user)
	if _, err := a.Activate(context.Background(), link, pixel); err != nil {
		t.Fatal(err)
	}
	return a
}

// pendingPush returns the device's one pending login request.
func pendingPush(t *testing.T, g *gatetest.Gateway, deviceID string) string {
	t.Helper()
	pending := g.Pending(t, deviceID)
	if len(pending) != 1 {
		t.Fatalf("%d pending login requests, want 1", len(pending))
	}
	return pending[0].ID
}

// otherNumber returns a two-digit number that is not n.
func otherNumber(n string) string {
	if n == "10" {
		return "11"
	}
	return "10"
}

func TestActivateBindsKeyAndKeepsActivation(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := newAgent(t, nil)
	code, _ := g.IssueActivation(t, "alice")
	link := "trustgate://activate?" + url.Values{"origin": {g.URL}, "code": {code}}.Encode()
	resp, err := a.Activate(context.Background(), link, pixel)
	if err != nil {
		t.Fatal(err)
	}
	if resp.DeviceID != a.DeviceID() || resp.User != "alice" {
		t.Errorf("response %+v", resp)
	}
	if d := g.Device(t, a.DeviceID()); d.User != "alice" || d.Model != "Pixel 8" {
		t.Errorf("gateway device record %+v", d)
	}
	act, ok := a.Activation()
	if !ok || act.User != "alice" || act.Origin != g.URL || !act.Allows(g.URL) || act.PasscodeSecret == "" || act.DeviceID != a.DeviceID() {
		t.Errorf("activation %+v", act)
	}
	// The code is single use: a second activation is refused with its code.
	_, err = newAgent(t, nil).Activate(context.Background(), link, pixel)
	if code := agent.ErrorCode(err); code != "not_found" {
		t.Errorf("reused code: error %v (code %q), want not_found", err, code)
	}
}

func TestActivationRestoresFromStoredActivation(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	first, err := agent.New(agent.Config{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	_, link := g.IssueActivation(t, "alice")
	if _, err := first.Activate(context.Background(), link, pixel); err != nil {
		t.Fatal(err)
	}
	act, _ := first.Activation()
	again, err := agent.New(agent.Config{Key: key, Activation: &act})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := again.Device(context.Background()); err != nil || d.User != "alice" || d.Platform != "android" {
		t.Errorf("Device() = %+v, %v", d, err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if _, err := agent.New(agent.Config{Key: other, Activation: &act}); err == nil {
		t.Error("New accepted an activation of another key")
	}
}

func TestVerifyPostsChallengeAndFactsThenAnswersInlinePush(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	link, tx := g.StartInline(t, "alice", "")
	facts := healthy()
	facts.Biometrics = ptr(false)
	resp, err := a.Verify(context.Background(), link, facts)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Trusted || resp.State != "reported" || resp.Push == nil || !resp.Push.Inline {
		t.Fatalf("report response %+v", resp)
	}
	if len(resp.Warnings) != 1 || resp.Warnings[0].Deadline == nil {
		t.Errorf("warnings %+v, want biometrics with a deadline", resp.Warnings)
	}
	var sent map[string]any
	if err := json.Unmarshal(g.Reported(tx), &sent); err != nil {
		t.Fatal(err)
	}
	if sent["platform"] != "android" || sent["screen_lock"] != true || sent["biometrics"] != false || sent["security_patch"] != "2026-10-05" {
		t.Errorf("facts the gateway got: %s", g.Reported(tx))
	}
	ans, err := a.Answer(context.Background(), "", resp.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != "approved" || !strings.HasPrefix(ans.ReturnURL, g.URL+protocol.ReturnPath+"?") {
		t.Errorf("answer response %+v", ans)
	}
	if got := g.Push(t, resp.Push.ID); got.State != store.PushApproved {
		t.Errorf("gateway recorded answer %+v", got)
	}
	// The transaction is single use.
	_, err = a.Verify(context.Background(), link, facts)
	if code := agent.ErrorCode(err); code != "conflict" {
		t.Errorf("second report: %v, want conflict", err)
	}
}

func TestVerifyLeavesUnreportedFactsOut(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	link, tx := g.StartInline(t, "alice", "")
	resp, err := a.Verify(context.Background(), link, agent.Facts{Platform: "ios", OSVersion: "17.4", AppVersion: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Trusted || len(resp.Failed) != 2 {
		t.Errorf("verdict %+v, want untrusted without screen lock and tamper facts", resp)
	}
	if raw := string(g.Reported(tx)); strings.Contains(raw, "screen_lock") || strings.Contains(raw, "tampered") {
		t.Errorf("unreported facts were sent: %s", raw)
	}
}

func TestVerifyRefusesOriginNotActivated(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	other := newGateway(t)
	a := activated(t, g, "alice")
	link, tx := other.StartInline(t, "alice", "")
	_, err := a.Verify(context.Background(), link, healthy())
	if !errors.Is(err, agent.ErrForeignOrigin) || !strings.Contains(err.Error(), other.URL) {
		t.Fatalf("error %v, want ErrForeignOrigin naming %s", err, other.URL)
	}
	if other.Transaction(t, tx).State != store.TransactionPending {
		t.Error("the foreign gateway got a report")
	}
	own, _ := g.StartInline(t, "alice", "")
	_, err = newAgent(t, nil).Verify(context.Background(), own, healthy())
	if !errors.Is(err, agent.ErrNotActivated) {
		t.Errorf("unactivated agent: %v, want ErrNotActivated", err)
	}
}

func TestVerifyAnotherUsersTransactionIsRefused(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	activated(t, g, "bob") // so that bob's prompt offers the app
	link, _ := g.StartInline(t, "bob", "")
	_, err := a.Verify(context.Background(), link, healthy())
	var apiErr *agent.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != "wrong_user" {
		t.Errorf("error %v, want 403 wrong_user", err)
	}
	u, _ := url.Parse(link)
	q := u.Query()
	q.Set(protocol.ParamChallenge, "not-the-challenge")
	u.RawQuery = q.Encode()
	_, err = a.Verify(context.Background(), u.String(), healthy())
	if agent.ErrorCode(err) != "wrong_user" && agent.ErrorCode(err) != "wrong_challenge" {
		t.Errorf("error %v", err)
	}
}

func TestBlockedReportHasNothingToApprove(t *testing.T) {
	t.Parallel()
	g := newGateway(t, policy.ModeBlock)
	a := activated(t, g, "alice")
	link, _ := g.StartInline(t, "alice", "")
	f := healthy()
	f.ScreenLock = ptr(false)
	resp, err := a.Verify(context.Background(), link, f)
	if err != nil {
		t.Fatal(err)
	}
	if resp.State != "denied" || resp.Push != nil || len(resp.Failed) != 1 || resp.Failed[0].Hint == "" {
		t.Errorf("response %+v", resp)
	}
}

func TestPushesLongPollsWithWaitQueryOutsideTheProof(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	got := make(chan []protocol.Push, 1)
	errs := make(chan error, 1)
	go func() {
		pushes, err := a.Pushes(ctx, 25*time.Second)
		got <- pushes
		errs <- err
	}()
	// Once the long-poll is held by the gateway, a push arrives.
	if err := g.WaitPolls(ctx, 1); err != nil {
		t.Fatal(err)
	}
	g.SendPush(t, "alice")
	push := pendingPush(t, g, a.DeviceID())
	pushes := <-got
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if len(pushes) != 1 || pushes[0].ID != push || pushes[0].Application != gatetest.Application {
		t.Errorf("pushes %+v", pushes)
	}
	// Without wait: no query at all; over 30 s: capped.
	if _, err := a.Pushes(ctx, 0); err != nil {
		t.Fatal(err)
	}
	polls := g.Polls()
	if len(polls) != 2 || polls[0].Wait != "25" || polls[1].RawQuery != "" {
		t.Errorf("polls %+v", polls)
	}
}

func TestPushesAreAnsweredWithNumberMatching(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	ctx := context.Background()
	_, number := g.SendPush(t, "alice")
	pushes, err := a.Pushes(ctx, 0)
	if err != nil || len(pushes) != 1 || !pushes[0].NumberMatching {
		t.Fatalf("pushes %+v, %v", pushes, err)
	}
	_, err = a.Answer(ctx, "", pushes[0].ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: otherNumber(number)})
	if agent.ErrorCode(err) != "wrong_number" {
		t.Errorf("wrong number: %v", err)
	}
	_, number = g.SendPush(t, "alice")
	p2 := pendingPush(t, g, a.DeviceID())
	ans, err := a.Answer(ctx, g.URL, p2, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: number})
	if err != nil || ans.State != "approved" || ans.ReturnURL != "" {
		t.Errorf("answer %+v, %v", ans, err)
	}
	g.SendPush(t, "alice")
	p3 := pendingPush(t, g, a.DeviceID())
	ans, err = a.Answer(ctx, "", p3, protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: protocol.DenyFraud})
	if err != nil || ans.State != "denied" {
		t.Errorf("deny %+v, %v", ans, err)
	}
	if rec := g.Push(t, p3); rec.State != store.PushDenied || rec.Answer != protocol.DenyFraud {
		t.Errorf("recorded %+v", rec)
	}
	if _, err := a.Answer(ctx, "https://evil.example", p3, protocol.AnswerRequest{Answer: protocol.AnswerDeny}); !errors.Is(err, agent.ErrForeignOrigin) {
		t.Errorf("answer at a foreign origin: %v", err)
	}
	if _, err := a.Answer(ctx, "", "../device", protocol.AnswerRequest{Answer: protocol.AnswerDeny}); err == nil {
		t.Error("answered a push ID that is a path")
	}
}

// replayTransport sends every request twice, the same bytes, and returns
// the second response: the gateway must refuse the replayed proof.
type replayTransport struct{}

func (replayTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	send := func() (*http.Response, error) {
		c := r.Clone(r.Context())
		c.Body = io.NopCloser(bytes.NewReader(body))
		return http.DefaultTransport.RoundTrip(c)
	}
	first, err := send()
	if err != nil {
		return nil, err
	}
	first.Body.Close()
	return send()
}

func TestAPIErrorsCarryTheirCode(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a, key := newKeyedAgent(t, nil)
	ctx := context.Background()
	_, link := g.IssueActivation(t, "alice")
	if _, err := a.Activate(ctx, link, pixel); err != nil {
		t.Fatal(err)
	}
	act, _ := a.Activation()

	t.Run("replayed proof", func(t *testing.T) {
		replaying, err := agent.New(agent.Config{Key: key, Activation: &act, Client: &http.Client{Transport: replayTransport{}}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = replaying.Device(ctx)
		var apiErr *agent.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != "replayed_proof" || apiErr.Message == "" {
			t.Errorf("error %v, want 401 replayed_proof", err)
		}
	})
	t.Run("unknown device", func(t *testing.T) {
		stranger, strangerKey := newKeyedAgent(t, nil)
		strangerAct := act
		strangerAct.DeviceID = stranger.DeviceID()
		s, err := agent.New(agent.Config{Key: strangerKey, Activation: &strangerAct})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Pushes(ctx, 0); agent.ErrorCode(err) != "unknown_device" {
			t.Errorf("error %v, want unknown_device", err)
		}
	})
	t.Run("key already activated", func(t *testing.T) {
		_, link := g.IssueActivation(t, "alice")
		_, err := a.Activate(ctx, link, pixel)
		if agent.ErrorCode(err) != "conflict" {
			t.Errorf("error %v, want conflict", err)
		}
	})
	t.Run("revoked device", func(t *testing.T) {
		g.Revoke(t, a.DeviceID())
		_, err := a.Device(ctx)
		var apiErr *agent.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != "revoked_device" {
			t.Errorf("error %v, want 403 revoked_device", err)
		}
	})
	t.Run("not a protocol error", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "upstream down\x1b[31m", http.StatusBadGateway)
		}))
		defer srv.Close()
		_, err := newAgent(t, nil).Activate(ctx, srv.URL+protocol.ActivateLinkPath+"?code=abc", pixel)
		var apiErr *agent.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadGateway || apiErr.Code != "" || strings.Contains(apiErr.Message, "\x1b") {
			t.Errorf("error %#v", err)
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		srv := httptest.NewServer(http.RedirectHandler("https://elsewhere.example/", http.StatusTemporaryRedirect))
		defer srv.Close()
		_, err := newAgent(t, nil).Activate(ctx, srv.URL+protocol.ActivateLinkPath+"?code=abc", pixel)
		var apiErr *agent.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusTemporaryRedirect {
			t.Errorf("error %v, want the 307 as an error", err)
		}
	})
}

func TestPasscodeMatchesProvisionedSecret(t *testing.T) {
	t.Parallel()
	g := newGateway(t)
	a := activated(t, g, "alice")
	secret := g.Device(t, a.DeviceID()).PasscodeSecret
	for _, now := range []time.Time{time.Now(), time.Date(2026, 11, 27, 3, 0, 29, 0, time.UTC)} {
		code, err := a.Passcode(now)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := totp.ValidateCustom(code, secret, now, totp.ValidateOpts{Period: 30, Digits: 6})
		if err != nil || !ok || len(code) != 6 {
			t.Errorf("passcode %q at %s does not validate (%v)", code, now, err)
		}
		if now.Unix()%30 == 29 && now.Nanosecond() == 0 {
			if left, _ := a.PasscodeValidFor(now); left != time.Second {
				t.Errorf("valid for %s, want 1s", left)
			}
		}
	}
	if totp.Validate(mustPasscode(t, a, time.Now()), secret) != true {
		t.Error("totp.Validate refuses the current passcode")
	}
	if _, err := newAgent(t, nil).Passcode(time.Now()); !errors.Is(err, agent.ErrNotActivated) {
		t.Errorf("unactivated: %v", err)
	}
}

func mustPasscode(t *testing.T, a *agent.Agent, now time.Time) string {
	t.Helper()
	code, err := a.Passcode(now)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestLoadProfileRefusesUnknownFacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"platform":"android","os_version":"14","screen_lock":true,"tampered":false,"model":"Pixel 8"}`)
	f, err := agent.LoadProfile(good)
	if err != nil {
		t.Fatal(err)
	}
	if f.Platform != "android" || f.ScreenLock == nil || !*f.ScreenLock || f.Biometrics != nil || f.Tampered == nil || *f.Tampered {
		t.Errorf("profile %+v", f)
	}
	for name, content := range map[string]string{
		"typo.json":     `{"platform":"android","screenlock":true}`,
		"platform.json": `{"platform":"windows"}`,
		"patch.json":    `{"platform":"android","security_patch":"October"}`,
		"two.json":      `{"platform":"android"} {}`,
		"notjson.json":  `platform: android`,
	} {
		if _, err := agent.LoadProfile(write(name, content)); err == nil {
			t.Errorf("%s: accepted %s", name, content)
		}
	}
	over := f.Override(agent.Facts{ScreenLock: ptr(false), OSVersion: "15"})
	if *over.ScreenLock || over.OSVersion != "15" || over.Model != "Pixel 8" || !*f.ScreenLock {
		t.Errorf("override %+v (original %+v)", over, f)
	}
}
