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
	"github.com/trustgate/trustgate/cmd/trustgate-device/internal/fakegateway"
	"github.com/trustgate/trustgate/prompt/protocol"
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

// activated returns an agent activated for user on g.
func activated(t *testing.T, g *fakegateway.Gateway, user string) *agent.Agent {
	t.Helper()
	a := newAgent(t, nil)
	if _, err := a.Activate(context.Background(), g.ActivationLink(g.IssueActivation(user)), pixel); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestActivateBindsKeyAndKeepsActivation(t *testing.T) {
	g := fakegateway.New(t)
	a := newAgent(t, nil)
	code := g.IssueActivation("alice")
	link := "trustgate://activate?" + url.Values{"origin": {g.Origin}, "code": {code}}.Encode()
	resp, err := a.Activate(context.Background(), link, pixel)
	if err != nil {
		t.Fatal(err)
	}
	if resp.DeviceID != a.DeviceID() || resp.User != "alice" {
		t.Errorf("response %+v", resp)
	}
	d, ok := g.Device(a.DeviceID())
	if !ok || d.User != "alice" || d.Request.Model != "Pixel 8" {
		t.Errorf("gateway device record %+v (found %v)", d, ok)
	}
	act, ok := a.Activation()
	if !ok || act.User != "alice" || act.Origin != g.Origin || !act.Allows(g.Origin) || act.PasscodeSecret == "" || act.DeviceID != a.DeviceID() {
		t.Errorf("activation %+v", act)
	}
	// The code is single use: a second activation is refused with its code.
	_, err = newAgent(t, nil).Activate(context.Background(), link, pixel)
	if code := agent.ErrorCode(err); code != "not_found" {
		t.Errorf("reused code: error %v (code %q), want not_found", err, code)
	}
}

func TestActivationRestoresFromStoredActivation(t *testing.T) {
	g := fakegateway.New(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	first, err := agent.New(agent.Config{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Activate(context.Background(), g.ActivationLink(g.IssueActivation("alice")), pixel); err != nil {
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
	g := fakegateway.New(t)
	a := activated(t, g, "alice")
	tx, challenge := g.StartTransaction("alice")
	facts := healthy()
	facts.Biometrics = ptr(false)
	resp, err := a.Verify(context.Background(), g.VerifyLink(tx, challenge), facts)
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Trusted || resp.State != "reported" || resp.Push == nil || !resp.Push.Inline {
		t.Fatalf("report response %+v", resp)
	}
	if len(resp.Warnings) != 1 || resp.Warnings[0].Deadline == nil {
		t.Errorf("warnings %+v, want biometrics with a deadline", resp.Warnings)
	}
	rec := g.Transaction(tx)
	var sent map[string]any
	if err := json.Unmarshal(rec.Facts, &sent); err != nil {
		t.Fatal(err)
	}
	if sent["platform"] != "android" || sent["screen_lock"] != true || sent["biometrics"] != false || sent["security_patch"] != "2026-10-05" {
		t.Errorf("facts the gateway got: %s", rec.Facts)
	}
	ans, err := a.Answer(context.Background(), "", resp.Push.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove})
	if err != nil {
		t.Fatal(err)
	}
	if ans.State != "approved" || !strings.HasPrefix(ans.ReturnURL, g.Origin+protocol.ReturnPath+"?") {
		t.Errorf("answer response %+v", ans)
	}
	if got := g.Answer(resp.Push.ID); got == nil || got.Answer != protocol.AnswerApprove {
		t.Errorf("gateway recorded answer %+v", got)
	}
	// The transaction is single use.
	_, err = a.Verify(context.Background(), g.VerifyLink(tx, challenge), facts)
	if code := agent.ErrorCode(err); code != "conflict" {
		t.Errorf("second report: %v, want conflict", err)
	}
}

func TestVerifyLeavesUnreportedFactsOut(t *testing.T) {
	g := fakegateway.New(t)
	a := activated(t, g, "alice")
	tx, challenge := g.StartTransaction("alice")
	resp, err := a.Verify(context.Background(), g.VerifyLink(tx, challenge), agent.Facts{Platform: "ios", OSVersion: "17.4", AppVersion: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Trusted || len(resp.Failed) != 2 {
		t.Errorf("verdict %+v, want untrusted without screen lock and tamper facts", resp)
	}
	if raw := string(g.Transaction(tx).Facts); strings.Contains(raw, "screen_lock") || strings.Contains(raw, "tampered") {
		t.Errorf("unreported facts were sent: %s", raw)
	}
}

func TestVerifyRefusesOriginNotActivated(t *testing.T) {
	g := fakegateway.New(t)
	other := fakegateway.New(t)
	a := activated(t, g, "alice")
	tx, challenge := other.StartTransaction("alice")
	_, err := a.Verify(context.Background(), other.VerifyLink(tx, challenge), healthy())
	if !errors.Is(err, agent.ErrForeignOrigin) || !strings.Contains(err.Error(), other.Origin) {
		t.Fatalf("error %v, want ErrForeignOrigin naming %s", err, other.Origin)
	}
	if other.Transaction(tx).Reported {
		t.Error("the foreign gateway got a report")
	}
	_, err = newAgent(t, nil).Verify(context.Background(), g.VerifyLink(tx, challenge), healthy())
	if !errors.Is(err, agent.ErrNotActivated) {
		t.Errorf("unactivated agent: %v, want ErrNotActivated", err)
	}
}

func TestVerifyAnotherUsersTransactionIsRefused(t *testing.T) {
	g := fakegateway.New(t)
	a := activated(t, g, "alice")
	tx, challenge := g.StartTransaction("bob")
	_, err := a.Verify(context.Background(), g.VerifyLink(tx, challenge), healthy())
	var apiErr *agent.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != "wrong_user" {
		t.Errorf("error %v, want 403 wrong_user", err)
	}
	_, err = a.Verify(context.Background(), g.VerifyLink(tx, "not-the-challenge"), healthy())
	if agent.ErrorCode(err) != "wrong_user" && agent.ErrorCode(err) != "wrong_challenge" {
		t.Errorf("error %v", err)
	}
}

func TestBlockedReportHasNothingToApprove(t *testing.T) {
	g := fakegateway.New(t)
	g.Block = true
	a := activated(t, g, "alice")
	tx, challenge := g.StartTransaction("alice")
	f := healthy()
	f.ScreenLock = ptr(false)
	resp, err := a.Verify(context.Background(), g.VerifyLink(tx, challenge), f)
	if err != nil {
		t.Fatal(err)
	}
	if resp.State != "denied" || resp.Push != nil || len(resp.Failed) != 1 || resp.Failed[0].Hint == "" {
		t.Errorf("response %+v", resp)
	}
}

func TestPushesLongPollsWithWaitQueryOutsideTheProof(t *testing.T) {
	g := fakegateway.New(t)
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
	push := g.AddPush(a.DeviceID(), "wiki", "")
	pushes := <-got
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if len(pushes) != 1 || pushes[0].ID != push.ID || pushes[0].Application != "wiki" {
		t.Errorf("pushes %+v", pushes)
	}
	// Without wait: no query at all; over 30 s: capped.
	if _, err := a.Pushes(ctx, 0); err != nil {
		t.Fatal(err)
	}
	waits, raw := g.Waits()
	if len(waits) != 2 || waits[0] != "25" || raw[1] != "" {
		t.Errorf("wait values %q, raw queries %q", waits, raw)
	}
}

func TestPushesAreAnsweredWithNumberMatching(t *testing.T) {
	g := fakegateway.New(t)
	a := activated(t, g, "alice")
	ctx := context.Background()
	p := g.AddPush(a.DeviceID(), "wiki", "42")
	pushes, err := a.Pushes(ctx, 0)
	if err != nil || len(pushes) != 1 || !pushes[0].NumberMatching {
		t.Fatalf("pushes %+v, %v", pushes, err)
	}
	_, err = a.Answer(ctx, "", p.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: "41"})
	if agent.ErrorCode(err) != "wrong_number" {
		t.Errorf("wrong number: %v", err)
	}
	p2 := g.AddPush(a.DeviceID(), "wiki", "42")
	ans, err := a.Answer(ctx, g.Origin, p2.ID, protocol.AnswerRequest{Answer: protocol.AnswerApprove, Number: "42"})
	if err != nil || ans.State != "approved" || ans.ReturnURL != "" {
		t.Errorf("answer %+v, %v", ans, err)
	}
	p3 := g.AddPush(a.DeviceID(), "wiki", "")
	ans, err = a.Answer(ctx, "", p3.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny, Reason: protocol.DenyFraud})
	if err != nil || ans.State != "denied" {
		t.Errorf("deny %+v, %v", ans, err)
	}
	if rec := g.Answer(p3.ID); rec == nil || rec.Reason != protocol.DenyFraud {
		t.Errorf("recorded %+v", rec)
	}
	if _, err := a.Answer(ctx, "https://evil.example", p3.ID, protocol.AnswerRequest{Answer: protocol.AnswerDeny}); !errors.Is(err, agent.ErrForeignOrigin) {
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
	g := fakegateway.New(t)
	a, key := newKeyedAgent(t, nil)
	ctx := context.Background()
	if _, err := a.Activate(ctx, g.ActivationLink(g.IssueActivation("alice")), pixel); err != nil {
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
		_, err := a.Activate(ctx, g.ActivationLink(g.IssueActivation("alice")), pixel)
		if agent.ErrorCode(err) != "conflict" {
			t.Errorf("error %v, want conflict", err)
		}
	})
	t.Run("revoked device", func(t *testing.T) {
		g.Revoke(a.DeviceID())
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
	g := fakegateway.New(t)
	a := activated(t, g, "alice")
	secret := g.PasscodeSecret(a.DeviceID())
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
