package gatetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/trustgate/trustgate/cmd/trustgate-device/agent"
	"github.com/trustgate/trustgate/policy"
	"github.com/trustgate/trustgate/prompt/device"
	"github.com/trustgate/trustgate/prompt/protocol"
	"github.com/trustgate/trustgate/prompt/store"
)

// BiometricsDeadline is when AgentPolicy's biometrics warning turns into
// a requirement: far enough ahead that tests never pass it.
var BiometricsDeadline = time.Date(2099, 1, 15, 0, 0, 0, 0, time.UTC)

// AgentPolicy changes PilotPolicy into the policy the reference agent's
// tests run against: it applies to everyone, on any OS version, requires
// a screen lock and an untampered phone, and warns about biometrics until
// BiometricsDeadline.
func AgentPolicy(p *policy.Policy) {
	p.Integration = policy.Integration{State: policy.All}
	p.Requirements.MinOS = policy.MinOS{}
	p.Requirements.Biometrics = policy.Rule{Level: policy.Warn, Until: BiometricsDeadline}
}

// Android14 is the phone most tests activate.
var Android14 = agent.DeviceInfo{Platform: "android", Model: "Pixel 8", OSVersion: "14", AppVersion: "1.0.0"}

func boolp(b bool) *bool { return &b }

// Healthy are the facts of a phone that meets PilotPolicy.
func Healthy() agent.Facts {
	return agent.Facts{
		Platform: "android", OSVersion: "14", SecurityPatch: "2026-10-05",
		ScreenLock: boolp(true), Biometrics: boolp(true), DiskEncryption: boolp(true), Tampered: boolp(false),
		AppVersion: "1.0.0", Model: "Pixel 8",
	}
}

// NewAgent returns a reference agent with a fresh key, not activated,
// that sends its requests with client (nil: a default client).
func NewAgent(t testing.TB, client *http.Client) *agent.Agent {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	a, err := agent.New(agent.Config{Key: key, Client: client})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// IssueActivation issues an activation code for user as an admin does
// (bound to no realm), and returns it with its HTTPS link.
func (gw *Gateway) IssueActivation(t testing.TB, user string) (code, link string) {
	t.Helper()
	code, err := device.IssueActivation(context.Background(), gw.Store, user, "", 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code, gw.ActivationLink(code)
}

// ActivationLink returns the HTTPS activation link of code.
func (gw *Gateway) ActivationLink(code string) string {
	_, link := device.ActivationLinks(gw.URL, code)
	return link
}

// Activate returns a reference agent with a fresh key, activated for user
// through an admin-issued activation link.
func (gw *Gateway) Activate(t testing.TB, user string, info agent.DeviceInfo) *agent.Agent {
	t.Helper()
	a := NewAgent(t, nil)
	_, link := gw.IssueActivation(t, user)
	if _, err := a.Activate(context.Background(), link, info); err != nil {
		t.Fatalf("activating a device for %s: %v", user, err)
	}
	return a
}

// InlineCheck runs the device side of an inline check: report facts for
// the prompt page's deep link and, when answer is not empty, answer the
// login request the report made. It returns the report and the answer.
func (gw *Gateway) InlineCheck(t testing.TB, dev *agent.Agent, page string, facts agent.Facts, answer string) (protocol.ReportResponse, protocol.AnswerResponse) {
	t.Helper()
	ctx := context.Background()
	_, link := PromptLinks(t, page)
	rep, err := dev.Verify(ctx, link, facts)
	if err != nil {
		t.Fatalf("health report: %v", err)
	}
	if rep.State != store.TransactionReported || answer == "" {
		return rep, protocol.AnswerResponse{}
	}
	if rep.Push == nil || !rep.Push.Inline {
		t.Fatalf("report answered %+v, want an inline login request", rep)
	}
	ans, err := dev.Answer(ctx, gw.URL, rep.Push.ID, protocol.AnswerRequest{Answer: answer})
	if err != nil {
		t.Fatalf("answering the login request: %v", err)
	}
	return rep, ans
}

// StartInline signs user in on a phone's browser (ua; empty for
// AndroidUA) and returns the prompt's custom-scheme deep link with its
// transaction ID.
func (gw *Gateway) StartInline(t testing.TB, user, ua string) (link, tx string) {
	t.Helper()
	if ua == "" {
		ua = AndroidUA
	}
	link, _ = PromptLinks(t, gw.NewBrowser(ua).OpenPrompt(user, "/"))
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return link, u.Query().Get(protocol.ParamTransaction)
}

// SendPush signs user in on an Android phone's browser and has the prompt
// send a login request to the person's devices. It returns the browser
// and the number the prompt shows for number matching.
func (gw *Gateway) SendPush(t testing.TB, user string) (b *Browser, number string) {
	t.Helper()
	b = gw.NewBrowser(AndroidUA)
	page := b.OpenPrompt(user, "/")
	r := b.PostForm("/.trustgate/verify/push", url.Values{"csrf": {FormCSRF(t, page)}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("send push: %d %s", r.Status, r.Body)
	}
	return b, MatchNumber(t, b.Get(r.Location).Body)
}

// Device returns a device's record in the store.
func (gw *Gateway) Device(t testing.TB, id string) store.Device {
	t.Helper()
	d, err := gw.Store.Device(context.Background(), id)
	if err != nil {
		t.Fatalf("device %s: %v", id, err)
	}
	return d
}

// Transaction returns a verification transaction's record in the store.
func (gw *Gateway) Transaction(t testing.TB, id string) store.Transaction {
	t.Helper()
	tx, err := gw.Store.Transaction(context.Background(), id)
	if err != nil {
		t.Fatalf("transaction %s: %v", id, err)
	}
	return tx
}

// Pending returns the device's pending login requests in the store.
func (gw *Gateway) Pending(t testing.TB, deviceID string) []store.Push {
	t.Helper()
	pending, err := gw.Store.PendingPushes(context.Background(), deviceID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return pending
}

// Push returns a login request's record in the store: its State and, for
// a denial, the reason (Answer).
func (gw *Gateway) Push(t testing.TB, id string) store.Push {
	t.Helper()
	p, err := gw.Store.Push(context.Background(), id)
	if err != nil {
		t.Fatalf("push %s: %v", id, err)
	}
	return p
}

// WaitAnswered waits until the login request id is answered, or ctx ends.
func (gw *Gateway) WaitAnswered(ctx context.Context, id string) (store.Push, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		p, err := gw.Store.Push(ctx, id)
		if err == nil && p.State != store.PushPending {
			return p, nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return p, ctx.Err()
		}
	}
}

// Revoke revokes a device as an admin does: in the store and in the trust
// cache.
func (gw *Gateway) Revoke(t testing.TB, id string) {
	t.Helper()
	if err := gw.Store.RevokeDevice(context.Background(), id, time.Now()); err != nil {
		t.Fatal(err)
	}
	if gw.Cache != nil {
		gw.Cache.RevokeDevice(id)
	}
}

// LastLog returns the newest auth-log entry of user.
func (gw *Gateway) LastLog(t testing.TB, user string) store.AuthLogEntry {
	t.Helper()
	entries, err := gw.Store.QueryAuthLog(context.Background(), store.AuthLogQuery{User: user, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatalf("no auth-log entry for %s", user)
	}
	return entries[0]
}

// PushTo has the prompt send user's devices a login request (SendPush)
// and returns the ID of the copy deviceID got, with the number to match.
func (gw *Gateway) PushTo(t testing.TB, user, deviceID string) (id, number string) {
	t.Helper()
	before := map[string]bool{}
	for _, p := range gw.Pending(t, deviceID) {
		before[p.ID] = true
	}
	_, number = gw.SendPush(t, user)
	for _, p := range gw.Pending(t, deviceID) {
		if !before[p.ID] {
			return p.ID, number
		}
	}
	t.Fatalf("device %s got no login request", deviceID)
	return "", ""
}
